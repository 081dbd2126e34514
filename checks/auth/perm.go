package auth

import (
	"sort"
	"strings"
)

// Categories holds the members of categories as the live server lists them
// with ACL CAT: "flushall", or "config|set" for a subcommand (7.0+). A
// category that is not known has unknown members: a rule that grants it is
// assumed to grant everything, one that removes it to remove nothing.
type Categories struct {
	members map[string]map[string]bool // category -> members
	parents map[string]map[string]bool // category -> commands with subcommands in it
	sorted  map[string][]string        // category -> members, sorted
	subs    map[string][]string        // command -> subcommands named anywhere, sorted
	// certain: a category of unknown members grants nothing, so that only
	// what the known rules prove is counted (see Certain).
	certain bool
}

// Certain returns the same categories judged without guesses: a category
// whose members are unknown grants nothing. What a user can run under it is
// a lower bound; Evaluate with c itself gives the upper bound.
func (c Categories) Certain() Categories {
	c.certain = true
	return c
}

// NewCategories builds Categories from ACL CAT replies.
func NewCategories(lists map[string][]string) Categories {
	c := Categories{members: map[string]map[string]bool{}, parents: map[string]map[string]bool{},
		sorted: map[string][]string{}, subs: map[string][]string{}}
	subs := map[string]map[string]bool{}
	for cat, list := range lists {
		cat = strings.ToLower(cat)
		set, parents := map[string]bool{}, map[string]bool{}
		for _, m := range list {
			m = strings.ToLower(m)
			set[m] = true
			if cmd, sub, ok := strings.Cut(m, "|"); ok {
				parents[cmd] = true
				if subs[cmd] == nil {
					subs[cmd] = map[string]bool{}
				}
				subs[cmd][sub] = true
			}
		}
		c.members[cat], c.parents[cat], c.sorted[cat] = set, parents, sortedKeys(set)
	}
	for cmd, set := range subs {
		c.subs[cmd] = sortedKeys(set)
	}
	return c
}

// known reports whether the category's members were read.
func (c Categories) known(cat string) bool { _, ok := c.members[cat]; return ok }

// contains reports whether cmd (sub "" for the bare command) is in cat, and
// whether cat's members are known at all.
func (c Categories) contains(cat, cmd, sub string) (in, known bool) {
	set, ok := c.members[cat]
	if !ok {
		return false, false
	}
	if set[cmd] {
		return true, true
	}
	if sub != "" {
		return set[cmd+"|"+sub], true
	}
	// The bare form of a container command: in 7.0+ the category lists its
	// subcommands only.
	return c.parents[cat][cmd], true
}

// subcommands lists the subcommands of cmd the categories mention.
func (c Categories) subcommands(cmd string) []string { return c.subs[cmd] }

// verdict is how a selector decides one command form.
type verdict struct {
	allowed bool
	by      Rule // the last rule that allowed it
	guessed bool // decided by a category of unknown members
}

// decide replays the selector's rules for one command form (sub "" for the
// bare command). A rule naming a subcommand or first argument grants part
// of the bare command, so it counts as allowing it: when unsure, allow.
func (s Selector) decide(cats Categories, cmd, sub string) verdict {
	var v verdict
	for _, r := range s.Rules {
		switch r.Kind {
		case AllCommands:
			v = verdict{allowed: r.Allow, by: r}
		case Category:
			in, known := cats.contains(r.Name, cmd, sub)
			switch {
			case !known && r.Allow && !cats.certain:
				v = verdict{allowed: true, by: r, guessed: true}
			case known && in:
				v = verdict{allowed: r.Allow, by: r}
			}
		case Command:
			if r.Name == cmd {
				v = verdict{allowed: r.Allow, by: r}
			}
		case Subcommand:
			if r.Name != cmd {
				continue
			}
			if r.Sub == sub || (sub == "" && r.Allow) {
				v = verdict{allowed: r.Allow, by: r}
			}
		}
	}
	return v
}

// allows reports whether the user can run the command form through its own
// rules or any selector, and the deciding rule.
func (u User) allows(cats Categories, cmd, sub string) verdict {
	v := u.Root.decide(cats, cmd, sub)
	if v.allowed {
		return v
	}
	for _, s := range u.Selectors {
		if w := s.decide(cats, cmd, sub); w.allowed {
			return w
		}
	}
	return v
}

// forms lists the forms of cmd worth asking about: the bare command, every
// subcommand the categories know, and every one the user's rules name.
func (u User) forms(cats Categories, cmd string) []string {
	seen := map[string]bool{}
	for _, s := range cats.subcommands(cmd) {
		seen[s] = true
	}
	for _, sel := range append([]Selector{u.Root}, u.Selectors...) {
		for _, r := range sel.Rules {
			if r.Kind == Subcommand && r.Name == cmd {
				seen[r.Sub] = true
			}
		}
	}
	return append([]string{""}, sortedKeys(seen)...)
}

// Dangerous names the commands that turn a Redis login into control of the
// host or the data set: CONFIG (SET dir/dbfilename writes files, GET reads
// requirepass), DEBUG, MODULE (LOAD runs code), FLUSHALL, SLAVEOF/REPLICAOF
// (rogue master), and ACL SETUSER, with which a user grants itself all of
// them.
var Dangerous = []struct{ Cmd, Sub string }{
	{"config", ""}, {"debug", ""}, {"module", ""}, {"flushall", ""},
	{"slaveof", ""}, {"replicaof", ""}, {"acl", "setuser"},
}

// Grants is what a user can run of the dangerous commands.
type Grants struct {
	// Commands are the dangerous commands the user can run, in display form:
	// "CONFIG" when every form is allowed, "CONFIG GET" for part of it.
	Commands []string
	// Category is set when the user gets @dangerous commands through a
	// category-wide rule (+@all, +@dangerous, +@admin…), not by naming them:
	// the rules that granted them, e.g. "+@all".
	Category []string
	// Runnable and Total count @dangerous members the user can run.
	Runnable, Total int
	// Guessed: a category of unknown members was assumed to grant.
	Guessed bool
}

// Any reports whether anything dangerous is granted.
func (g Grants) Any() bool { return len(g.Commands) > 0 || len(g.Category) > 0 }

// Evaluate works out the dangerous commands u can run. cats must hold the
// "dangerous" category for the category part; without it only the named
// commands are judged.
func Evaluate(u User, cats Categories) Grants {
	var g Grants
	for _, d := range Dangerous {
		g.Commands = append(g.Commands, u.dangerousForms(cats, d.Cmd, d.Sub, &g)...)
	}
	by := map[string]bool{}
	members := cats.sorted["dangerous"]
	g.Total = len(members)
	for _, m := range members {
		cmd, sub, _ := strings.Cut(m, "|")
		v := u.allows(cats, cmd, sub)
		if !v.allowed {
			continue
		}
		g.Runnable++
		g.Guessed = g.Guessed || v.guessed
		if v.by.Kind == AllCommands || v.by.Kind == Category {
			by[v.by.String()] = true
		}
	}
	if !cats.known("dangerous") {
		// Members unknown: any category-wide grant may include them; +@all
		// certainly does, whatever the members.
		for _, sel := range append([]Selector{u.Root}, u.Selectors...) {
			for _, r := range sel.Rules {
				switch {
				case r.Allow && r.Kind == AllCommands:
					by[r.String()] = true
				case r.Allow && r.Kind == Category && !cats.certain:
					by[r.String()] = true
					g.Guessed = true
				}
			}
		}
	}
	g.Category = sortedKeys(by)
	return g
}

// dangerousForms returns the display forms of cmd (or of cmd|sub alone)
// that u can run.
func (u User) dangerousForms(cats Categories, cmd, sub string, g *Grants) []string {
	up := strings.ToUpper(cmd)
	if sub != "" {
		v := u.allows(cats, cmd, sub)
		g.Guessed = g.Guessed || v.guessed
		if v.allowed {
			return []string{up + " " + strings.ToUpper(sub)}
		}
		return nil
	}
	// A container command (7.0+: the categories list its subcommands) runs
	// only as one of its subcommands; its bare name is no form of its own,
	// and Redis writes "-config" as the removal of each subcommand.
	container := len(cats.subcommands(cmd)) > 0
	var forms, ok []string
	for _, f := range u.forms(cats, cmd) {
		if f == "" && container {
			continue
		}
		if f != "" {
			// A subcommand outside @dangerous (CONFIG HELP) is no threat.
			if in, known := cats.contains("dangerous", cmd, f); known && !in {
				continue
			}
		}
		forms = append(forms, f)
		v := u.allows(cats, cmd, f)
		if v.allowed {
			g.Guessed = g.Guessed || v.guessed
			ok = append(ok, f)
		}
	}
	// Without the categories (ACL CAT not readable), a command whose
	// subcommands the rules name is judged by those: the bare form stands
	// for "every other subcommand" only when a rule other than a
	// subcommand rule allows it.
	if !container && len(forms) > 1 && (cats.certain || !cats.known("dangerous")) {
		bare := u.allows(cats, cmd, "")
		if !bare.allowed || bare.by.Kind == Subcommand {
			var out []string
			for _, f := range ok {
				if f != "" {
					out = append(out, up+" "+strings.ToUpper(f))
				}
			}
			return out
		}
	}
	switch {
	case len(ok) == 0:
		return nil
	case len(ok) == len(forms):
		return []string{up}
	case len(ok) == 1 && ok[0] == "":
		return []string{up}
	}
	// Part of the command is allowed: name the subcommands.
	var out []string
	for _, f := range ok {
		if f != "" {
			out = append(out, up+" "+strings.ToUpper(f))
		}
	}
	return out
}

// CategoriesNamed lists the categories users' rules mention, so the audit
// knows which ones to ask the server about.
func CategoriesNamed(users []User) []string {
	seen := map[string]bool{}
	for _, u := range users {
		for _, sel := range append([]Selector{u.Root}, u.Selectors...) {
			for _, r := range sel.Rules {
				if r.Kind == Category {
					seen[r.Name] = true
				}
			}
		}
	}
	return sortedKeys(seen)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
