package plugin

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/pflag"
)

// The option types mirror sensu-plugin-sdk's PluginConfigOption and
// SlicePluginConfigOption: the same field names, the same flag, environment
// and annotation lookup, the same value syntax (JSON, or the raw text for
// strings). They live here because the SDK's package links
// github.com/sensu/core/v2 and viper, and with them grpc, etcd and protobuf:
// about 10 MB and 8 ms of package initialisation per run for a check that
// needs two annotation maps from the event. sdkparity_test.go holds them to
// the SDK's behaviour.

// ConfigOption is one option of a check: a flag, optionally an environment
// variable, and an annotation path.
type ConfigOption interface {
	// SetValue sets the option from text as the SDK does: JSON first, then,
	// for strings, the raw text.
	SetValue(string) error
	spec() optionSpec
	setupFlag(fs *pflag.FlagSet) error
}

type optionSpec struct{ path, env, argument string }

// Value is the type constraint of Option: the flag types the checks use.
type Value interface{ bool | int | string }

// SliceValue is the type constraint of SliceOption.
type SliceValue interface{ int | string }

// Option is a single-valued option.
type Option[T Value] struct {
	// Value receives the option; it must not be nil.
	Value *T
	// Path is the annotation path under sensu.io/plugins/<check>/config/;
	// empty means the option cannot be set by annotation.
	Path string
	// Env is the environment variable consulted when the flag is not given.
	Env       string
	Argument  string
	Shorthand string
	Default   T
	Usage     string
	// Secret keeps the default out of --help.
	Secret bool
}

// SliceOption is a list-valued option.
type SliceOption[T SliceValue] struct {
	Value     *[]T
	Path      string
	Env       string
	Argument  string
	Shorthand string
	Default   []T
	Usage     string
	Secret    bool
	// UseCobraStringArray makes each --flag occurrence one element instead of
	// splitting it at commas (strings only), as in the SDK.
	UseCobraStringArray bool
}

func (p *Option[T]) spec() optionSpec      { return optionSpec{p.Path, p.Env, p.Argument} }
func (p *SliceOption[T]) spec() optionSpec { return optionSpec{p.Path, p.Env, p.Argument} }

func (p *Option[T]) setupFlag(fs *pflag.FlagSet) error {
	if p.Argument == "" {
		return nil
	}
	if p.Value == nil {
		return fmt.Errorf("option --%s has no Value", p.Argument)
	}
	switch v := any(p.Value).(type) {
	case *bool:
		fs.BoolVarP(v, p.Argument, p.Shorthand, any(p.Default).(bool), p.Usage)
	case *int:
		fs.IntVarP(v, p.Argument, p.Shorthand, any(p.Default).(int), p.Usage)
	case *string:
		fs.StringVarP(v, p.Argument, p.Shorthand, any(p.Default).(string), p.Usage)
	}
	if p.Secret {
		fs.Lookup(p.Argument).DefValue = ""
	}
	return nil
}

func (p *SliceOption[T]) setupFlag(fs *pflag.FlagSet) error {
	if p.Argument == "" {
		return nil
	}
	if p.Value == nil {
		return fmt.Errorf("option --%s has no Value", p.Argument)
	}
	switch v := any(p.Value).(type) {
	case *[]int:
		fs.IntSliceVarP(v, p.Argument, p.Shorthand, any(p.Default).([]int), p.Usage)
	case *[]string:
		def := any(p.Default).([]string)
		if p.UseCobraStringArray {
			fs.StringArrayVarP(v, p.Argument, p.Shorthand, def, p.Usage)
		} else {
			fs.StringSliceVarP(v, p.Argument, p.Shorthand, def, p.Usage)
		}
	}
	if p.Secret {
		fs.Lookup(p.Argument).DefValue = ""
	}
	return nil
}

// SetValue: a JSON value of the option's type, or for strings the raw text
// (so `"x"` is x, as in the SDK).
func (p *Option[T]) SetValue(s string) error {
	if err := json.Unmarshal([]byte(s), p.Value); err == nil {
		return nil
	}
	if v, ok := any(p.Value).(*string); ok {
		*v = s
		return nil
	}
	return fmt.Errorf("invalid value for %T: %v", *p.Value, s)
}

// SetValue: a JSON array, or one element (the raw text for strings, so
// "a,b" is one element, as in the SDK).
func (p *SliceOption[T]) SetValue(s string) error {
	if err := json.Unmarshal([]byte(s), p.Value); err == nil {
		return nil
	}
	if v, ok := any(p.Value).(*[]string); ok {
		*v = []string{s}
		return nil
	}
	var one T
	if err := json.Unmarshal([]byte(s), &one); err == nil {
		*p.Value = []T{one}
		return nil
	}
	return fmt.Errorf("invalid value for %T: %v", *p.Value, s)
}
