package plugin

import (
	"fmt"
	"reflect"

	"github.com/sensu/sensu-plugin-sdk/sensu"
	"github.com/spf13/cobra"
)

// applyEnv sets each option from its environment variable unless its flag
// was given. The SDK binds environment variables through viper, which turns
// a malformed number into 0 without a word; parsing them again with the
// option's own SetValue makes "REDIS_PORT=abc" an error instead.
func applyEnv(cmd *cobra.Command, opts []sensu.ConfigOption, getenv func(string) string) error {
	for _, o := range opts {
		arg, env := optionField(o, "Argument"), optionField(o, "Env")
		if env == "" {
			continue
		}
		v := getenv(env)
		if v == "" {
			continue
		}
		if arg != "" {
			if f := cmd.Flags().Lookup(arg); f != nil && f.Changed {
				continue // flag beats environment, as in the SDK
			}
		}
		if err := o.SetValue(v); err != nil {
			return badInput{fmt.Errorf("invalid value in $%s", env)}
		}
	}
	return nil
}

// optionField reads a string field of the SDK's generic option structs,
// which share field names but no interface to read them through.
func optionField(o sensu.ConfigOption, name string) string {
	v := reflect.ValueOf(o)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}
