package plugin

// The runner's options replace sensu-plugin-sdk's in the binaries (see
// option.go); these tests hold them to the SDK v0.19.0 behaviour, with the
// SDK and github.com/sensu/core/v2 as the oracle: the same value syntax, the
// same annotation keys and precedence, the same flags and help.

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	corev2 "github.com/sensu/core/v2"
	"github.com/sensu/sensu-plugin-sdk/sensu"
	"github.com/spf13/cobra"
)

// pair is one option built twice, ours and the SDK's, over separate values.
type pair struct {
	ours            ConfigOption
	sdkOpt          sensu.ConfigOption
	oursVal, sdkVal func() any
}

func pairs() []pair {
	var (
		i1, i2   int
		b1, b2   bool
		s1, s2   string
		ss1, ss2 []string
		is1, is2 []int
		a1, a2   []string
	)
	return []pair{
		{ours: &Option[int]{Path: "port", Argument: "port", Shorthand: "p", Env: "X_PORT", Default: 6379, Value: &i1, Usage: "port"},
			sdkOpt:  &sensu.PluginConfigOption[int]{Path: "port", Argument: "port", Shorthand: "p", Env: "X_PORT", Default: 6379, Value: &i2, Usage: "port"},
			oursVal: func() any { return i1 }, sdkVal: func() any { return i2 }},
		{ours: &Option[bool]{Path: "tls", Argument: "tls", Value: &b1, Usage: "tls"},
			sdkOpt:  &sensu.PluginConfigOption[bool]{Path: "tls", Argument: "tls", Value: &b2, Usage: "tls"},
			oursVal: func() any { return b1 }, sdkVal: func() any { return b2 }},
		{ours: &Option[string]{Path: "Host", Argument: "host", Shorthand: "H", Default: "127.0.0.1", Value: &s1, Usage: "host"},
			sdkOpt:  &sensu.PluginConfigOption[string]{Path: "Host", Argument: "host", Shorthand: "H", Default: "127.0.0.1", Value: &s2, Usage: "host"},
			oursVal: func() any { return s1 }, sdkVal: func() any { return s2 }},
		{ours: &SliceOption[string]{Path: "target", Argument: "target", Value: &ss1, Usage: "targets", UseCobraStringArray: true},
			sdkOpt:  &sensu.SlicePluginConfigOption[string]{Path: "target", Argument: "target", Value: &ss2, Usage: "targets", UseCobraStringArray: true},
			oursVal: func() any { return ss1 }, sdkVal: func() any { return ss2 }},
		{ours: &SliceOption[int]{Path: "plaintext-port", Argument: "plaintext-port", Default: []int{6379}, Value: &is1, Usage: "ports"},
			sdkOpt:  &sensu.SlicePluginConfigOption[int]{Path: "plaintext-port", Argument: "plaintext-port", Default: []int{6379}, Value: &is2, Usage: "ports"},
			oursVal: func() any { return is1 }, sdkVal: func() any { return is2 }},
		{ours: &SliceOption[string]{Path: "allow", Argument: "allow", Default: []string{"default"}, Value: &a1, Usage: "names"},
			sdkOpt:  &sensu.SlicePluginConfigOption[string]{Path: "allow", Argument: "allow", Default: []string{"default"}, Value: &a2, Usage: "names"},
			oursVal: func() any { return a1 }, sdkVal: func() any { return a2 }},
	}
}

// setValue runs SetValue on both and reports any disagreement.
func setValue(p pair, s string) error {
	e1, e2 := p.ours.SetValue(s), p.sdkOpt.SetValue(s)
	if (e1 == nil) != (e2 == nil) {
		return fmt.Errorf("%q: ours err %v, SDK err %v", s, e1, e2)
	}
	if e1 == nil && !reflect.DeepEqual(p.oursVal(), p.sdkVal()) {
		return fmt.Errorf("%q: ours %#v, SDK %#v", s, p.oursVal(), p.sdkVal())
	}
	return nil
}

var valueCorpus = []string{
	"", "6379", " 6379 ", "-1", "1e3", "6379.5", "abc", "true", "false", "1", `"x"`, `"6379"`,
	"a,b", `["a","b"]`, `[1,2]`, `["a",1]`, "[]", "null", `{}`, "99999999999999999999", "127.0.0.1",
}

func TestSetValueMatchesSDK(t *testing.T) {
	for _, s := range valueCorpus {
		for _, p := range pairs() {
			if err := setValue(p, s); err != nil {
				t.Errorf("%T: %v", p.ours, err)
			}
		}
	}
}

func FuzzSetValueMatchesSDK(f *testing.F) {
	for _, s := range valueCorpus {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range pairs() {
			if err := setValue(p, s); err != nil {
				t.Fatalf("%T: %v", p.ours, err)
			}
		}
	})
}

// overrides decodes ev both ways and applies the annotations to every pair.
// It reports a disagreement, and whether core/v2 accepted the event.
func overrides(ev string) (bool, error) {
	sdkEvent := &corev2.Event{}
	sdkErr := json.Unmarshal([]byte(ev), sdkEvent)
	ours := &Event{}
	oursErr := json.Unmarshal([]byte(ev), ours)
	if oursErr != nil && sdkErr == nil {
		return false, fmt.Errorf("core/v2 accepts the event, ours rejects it: %v", oursErr)
	}
	if sdkErr != nil {
		return false, nil // ours may be laxer about fields it does not read
	}
	for _, p := range pairs() {
		_, e2 := p.sdkOpt.SetAnnotationValue(Keyspace("redis-x-check"), sdkEvent)
		e1 := applyAnnotations("redis-x-check", []ConfigOption{p.ours}, ours)
		if (e1 == nil) != (e2 == nil) {
			return true, fmt.Errorf("%T: ours err %v, SDK err %v", p.ours, e1, e2)
		}
		if e1 == nil && !reflect.DeepEqual(p.oursVal(), p.sdkVal()) {
			return true, fmt.Errorf("%T: ours %#v, SDK %#v", p.ours, p.oursVal(), p.sdkVal())
		}
	}
	return true, nil
}

const ks = "sensu.io/plugins/redis-x-check/config/"

var eventCorpus = []string{
	`{}`,
	`null`,
	`{"check":null,"entity":null}`,
	`{"check":{"metadata":{"name":"c","annotations":{"` + ks + `port":"6380"}}},"entity":{"metadata":{"annotations":{"` + ks + `port":"6381"}}}}`,
	`{"check":{"metadata":{"annotations":{"` + ks + `port":""}}},"entity":{"metadata":{"annotations":{"` + ks + `port":"6381"}}}}`,
	`{"entity":{"metadata":{"annotations":{"` + ks + `host":"lower? no: exact","` + ks + `Host":"exact"}}}}`,
	`{"check":{"metadata":{"annotations":{"` + ks + `Host":"exact"}}},"entity":{"metadata":{"annotations":{"` + ks + `host":"lower"}}}}`,
	`{"check":{"metadata":{"annotations":{"` + ks + `target":"[\"192.0.2.1:6379\",\"192.0.2.2\"]","` + ks + `tls":"true"}}}}`,
	`{"check":{"metadata":{"annotations":{"` + ks + `plaintext-port":"6379,6380"}}}}`,
	`{"check":{"metadata":{"annotations":{"` + ks + `port":"many"}}}}`,
	`{"check":{"interval":"x"}}`,
	`{"id":"not-a-uuid","check":{"metadata":{"annotations":{"` + ks + `port":"1"}}}}`,
	`{"check":{"metadata":{"annotations":{"` + ks + `port":1}}}}`,
	`{"check":[],"entity":{}}`,
	`[]`,
	`{"timestamp":1700000000,"entity":{"entity_class":"agent","metadata":{"name":"redis-1","namespace":"default","annotations":{"` + ks + `allow":"ops"}}},"check":{"command":"redis-x-check","metadata":{"name":"redis-x","namespace":"default"}}}`,
}

func TestAnnotationsMatchSDK(t *testing.T) {
	accepted := 0
	for _, ev := range eventCorpus {
		ok, err := overrides(ev)
		if err != nil {
			t.Errorf("%s: %v", ev, err)
		}
		if ok {
			accepted++
		}
	}
	if accepted < 10 {
		t.Fatalf("core/v2 accepted only %d of the corpus events; the comparison proves little", accepted)
	}
}

func FuzzAnnotationsMatchSDK(f *testing.F) {
	for _, ev := range eventCorpus {
		f.Add(ev)
	}
	f.Fuzz(func(t *testing.T, ev string) {
		if _, err := overrides(ev); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFlagsMatchSDK: the same flags, shorthands, defaults and help lines,
// and the same values after parsing the same arguments.
func TestFlagsMatchSDK(t *testing.T) {
	oursCmd, sdkCmd := &cobra.Command{Use: "x"}, &cobra.Command{Use: "x"}
	ps := pairs()
	for _, p := range ps {
		if err := p.ours.setupFlag(oursCmd.Flags()); err != nil {
			t.Fatal(err)
		}
		if err := p.sdkOpt.SetupFlag(sdkCmd); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := oursCmd.Flags().FlagUsages(), sdkCmd.Flags().FlagUsages(); a != b {
		t.Fatalf("help differs:\nours:\n%s\nSDK:\n%s", a, b)
	}
	args := []string{"-p", "6380", "--tls", "-H", "::1", "--target", "a,b", "--target", "c",
		"--plaintext-port", "1,2", "--allow", "x,y"}
	if err := oursCmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := sdkCmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if !reflect.DeepEqual(p.oursVal(), p.sdkVal()) {
			t.Errorf("%T: ours %#v, SDK %#v", p.ours, p.oursVal(), p.sdkVal())
		}
	}
}
