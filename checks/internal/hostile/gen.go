package hostile

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// Case is one run of one binary against one script.
type Case struct {
	Name   string `json:"name"`
	Binary string `json:"binary"`
	TLS    bool   `json:"tls,omitempty"`
	// WithPassword sets $REDIS_PASSWORD to Password for the run.
	WithPassword bool   `json:"with_password,omitempty"`
	Note         string `json:"note,omitempty"`
	Script       Script `json:"script"`
}

// Binaries are the checks that talk to Redis.
var Binaries = []string{"redis-bind-check", "redis-auth-check", "redis-tls-check", "redis-exposure-check"}

// Baseline returns the unmutated case for a binary (variant picks TLS or
// credentials where the binary has them).
func Baseline(binary string, variant int) Case {
	c := Case{Binary: binary, Name: binary + "-baseline"}
	switch binary {
	case "redis-bind-check":
		c.TLS = variant%2 == 1
		c.Script = BindWorld(c.TLS)
	case "redis-auth-check":
		c.WithPassword = variant%2 == 1
		c.TLS = variant%4 >= 2
		c.Script = AuthWorld()
	case "redis-tls-check":
		c.TLS = true
		c.Script = TLSWorld()
	case "redis-exposure-check":
		c.TLS = variant%2 == 1
		c.Script = ExposureWorld()
	}
	if c.TLS {
		c.Name += "-tls"
	}
	if c.WithPassword {
		c.Name += "-pw"
	}
	return c
}

// Generate makes the i-th case of a seeded run: a baseline with one to
// three of its replies mutated. Every mutation makes the conversation
// something no consistent, valid Redis says, so an OK after one reached the
// client is a false OK; except a renamed command or an ACL denial, which a
// real Redis says when so configured (Action.Config): those vary the
// world rather than break it.
func Generate(seed uint64, i int) Case {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	c := Baseline(Binaries[r.IntN(len(Binaries))], r.IntN(4))
	c.Name = fmt.Sprintf("seed%d-case%d-%s", seed, i, strings.Replace(c.Name, "-baseline", "", 1))
	s := cloneScript(c.Script)
	maps := []map[string]Action{s.Anon}
	if s.Authed != nil && c.WithPassword {
		maps = append(maps, s.Authed)
	}
	var notes []string
	for range 1 + r.IntN(3) {
		m := maps[r.IntN(len(maps))]
		keys := slices.Sorted(mapsKeys(m))
		k := keys[r.IntN(len(keys))]
		if m[k].Mutated {
			// Mutations do not compose: "-NOAUTH " cut short and then given
			// an extra "+OK" is a well-formed error again.
			continue
		}
		a, what := mutate(r, m[k], k, c.Binary)
		a.Mutated = true
		m[k] = a
		notes = append(notes, k+": "+what)
	}
	c.Script = s
	c.Note = strings.Join(notes, "; ")
	return c
}

func mapsKeys(m map[string]Action) func(func(string) bool) { return maps.Keys(m) }

func cloneScript(s Script) Script {
	s.Anon = maps.Clone(s.Anon)
	if s.Authed != nil {
		s.Authed = maps.Clone(s.Authed)
	}
	return s
}

// mutate turns a valid reply to the command key into one of the hostile
// kinds. The last two are replies a real server gives (a renamed command,
// an ACL rule that denies it), which leave the check unable to verify what
// it needed: fail closed, it must not say OK after them either.
//
// Two kinds are left out where they prove nothing: redis-exposure-check
// asks only whether a Redis answers, which a refusal proves; and go-redis
// reads HELLO's reply itself and uses none of it for any judgement, so a
// well-framed but odd HELLO reply, or none (Redis before 6.0), changes nothing.
func mutate(r *rand.Rand, a Action, key, binary string) (Action, string) {
	orig := a.Send
	cmd, _, _ := strings.Cut(key, " ")
	kinds := 18
	switch {
	case binary == "redis-exposure-check":
		kinds = 16
	case cmd == "HELLO":
		kinds = 15
	}
	switch r.IntN(kinds) {
	case 16:
		return Action{Send: fmt.Sprintf("-ERR unknown command '%s', with args beginning with: \r\n", strings.ToLower(cmd)), Config: true}, "renamed or disabled"
	case 17:
		return Action{Send: fmt.Sprintf("-NOPERM User default has no permissions to run the '%s' command\r\n", strings.ToLower(cmd)), Config: true}, "denied by ACL rules"
	case 0:
		n := []string{"500000000000", "100000000", "4194305", "9223372036854775807"}[r.IntN(4)]
		return Action{Send: "*2\r\n$4\r\nbind\r\n$" + n + "\r\n" + strings.Repeat("x", r.IntN(64))}, "huge bulk length " + n
	case 1:
		n := []string{"4294967295", "100000", "65537", "-5"}[r.IntN(4)]
		return Action{Send: "*" + n + "\r\n" + strings.Repeat("$1\r\na\r\n", r.IntN(8))}, "huge or bad array length " + n
	case 2:
		d := 17 + r.IntN(200)
		return Action{Send: strings.Repeat("*1\r\n", d) + ":1\r\n"}, fmt.Sprintf("nested %d deep", d)
	case 3:
		n := 60000 + r.IntN(200000)
		return Action{Send: "+" + strings.Repeat("a", n) + "\r\n"}, fmt.Sprintf("line of %d bytes", n)
	case 4:
		// A type the command never answers with (the reply's own type excluded).
		alts := []string{":1\r\n", "+OK\r\n", "*0\r\n", "$-1\r\n", "*-1\r\n", "$3\r\nfoo\r\n", "*1\r\n:7\r\n", "*3\r\n$4\r\nbind\r\n$1\r\n*\r\n:1\r\n"}
		for {
			alt := alts[r.IntN(len(alts))]
			if orig == "" || alt[0] != orig[0] || orig[0] == '-' {
				return Action{Send: alt}, fmt.Sprintf("wrong type %q", alt)
			}
		}
	case 5:
		pre := []string{">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n", "|1\r\n+key-popularity\r\n,0.5\r\n", ">1\r\n+pubsub\r\n"}[r.IntN(3)]
		return Action{Send: pre + orig}, fmt.Sprintf("RESP3 %q before the reply", pre[:1])
	case 6:
		alt := []string{"%1\r\n+bind\r\n+*\r\n", "_\r\n", "#t\r\n", ",1.5\r\n", "~1\r\n+x\r\n", "(12345678901234567890\r\n", "=7\r\ntxt:abc\r\n", "!3\r\nERR\r\n"}[r.IntN(8)]
		return Action{Send: alt}, fmt.Sprintf("RESP3 reply %q", alt)
	case 7:
		return Action{Echo: true}, "error echoing the request"
	case 8:
		extra := []string{"+OK\r\n", ":1\r\n", orig, "$4\r\nbind\r\n"}[r.IntN(4)]
		return Action{Send: orig + extra}, "an extra reply after it"
	case 9:
		if len(orig) < 2 {
			return Action{Mode: "close"}, "close"
		}
		k := 1 + r.IntN(len(orig)-1)
		return Action{Send: orig[:k], Mode: "close"}, fmt.Sprintf("cut after %d bytes, then close", k)
	case 10:
		return Action{Mode: "close"}, "close without a reply"
	case 11:
		k := r.IntN(len(orig) + 1)
		if k == len(orig) {
			k = 0
		}
		return Action{Send: orig[:k], Mode: "silence"}, fmt.Sprintf("silence after %d bytes", k)
	case 12:
		return Action{Send: orig + strings.Repeat("+PONG\r\n", 3), Mode: "drip", DripMS: 400}, "slow drip, 400 ms a byte, with trailing replies"
	case 13:
		e := []string{"+PONG\r\n", "*1\r\n", "$3\r\nabc\r\n", "a", ":1\r\n"}[r.IntN(5)]
		return Action{Send: e, Mode: "endless"}, fmt.Sprintf("endless %q", e)
	case 14:
		// Framing that lies: a bulk longer or shorter than announced, a
		// bare LF, a CR without LF, a non-RESP first byte.
		alt := []string{"$3\r\nbind\r\n", "$9\r\nbind\r\n", "+OK\n", "+OK\rX\r\n", "HTTP/1.1 400 Bad Request\r\n", "$2\r\nab", ":12a\r\n"}[r.IntN(7)]
		return Action{Send: alt}, fmt.Sprintf("bad framing %q", alt)
	default:
		// Inconsistent but well framed: a reply to another question.
		alt := []string{bulks("port", "6379"), bulks("bind", "* -::*"), bulk("# Server\r\nredis_version:\r\n"), ":-1\r\n", "*2\r\n$4\r\nbind\r\n:1\r\n", bulks("bind")}[r.IntN(6)]
		if alt == orig {
			alt = "+QUEUED\r\n"
		}
		return Action{Send: alt}, fmt.Sprintf("inconsistent reply %q", alt)
	}
}
