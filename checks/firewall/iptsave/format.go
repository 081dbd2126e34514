package iptsave

import (
	"bufio"
	"io"
	"strings"
)

// Format writes d back in iptables-save syntax (without counters or
// comments). Parse(Format(d)) yields d again, which the fuzz test checks.
func Format(w io.Writer, d *Dump) error {
	bw := bufio.NewWriter(w)
	for _, t := range d.Tables {
		bw.WriteString("*" + t.Name + "\n")
		for _, c := range t.Chains {
			bw.WriteString(":" + c.Name + " " + c.Policy + " [0:0]\n")
		}
		for _, r := range t.Rules {
			bw.WriteString(FormatRule(r))
			bw.WriteByte('\n')
		}
		bw.WriteString("COMMIT\n")
	}
	return bw.Flush()
}

// FormatRule renders one rule as an "-A" line.
func FormatRule(r *Rule) string {
	var b strings.Builder
	b.WriteString("-A " + quote(r.Chain))
	writeSpec(&b, r)
	return b.String()
}

// FormatSpec renders a rule's matches and target as an "-A" line would,
// without "-A CHAIN" (or the space after it).
func FormatSpec(r *Rule) string {
	var b strings.Builder
	writeSpec(&b, r)
	return strings.TrimPrefix(b.String(), " ")
}

func writeSpec(b *strings.Builder, r *Rule) {
	for _, m := range r.Matches {
		if m.Module != "" && !m.Implicit {
			b.WriteString(" -m " + quote(m.Module))
		}
		writeOptions(b, m.Options)
	}
	if r.Target != "" {
		if r.Goto {
			b.WriteString(" -g ")
		} else {
			b.WriteString(" -j ")
		}
		b.WriteString(quote(r.Target))
		writeOptions(b, r.TargetOptions)
	}
}

func writeOptions(b *strings.Builder, opts []Option) {
	for _, o := range opts {
		if o.Neg {
			b.WriteString(" !")
		}
		b.WriteString(" " + o.Name)
		for _, v := range o.Values {
			b.WriteString(" " + quote(v))
		}
	}
}

// quote writes a value so that tokenize reads it back unchanged.
func quote(s string) string {
	if s != "" && s != "!" && s[0] != '-' && s[0] != '[' && !strings.ContainsAny(s, " \t\"\\") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
