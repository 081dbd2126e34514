package plugin

import (
	"fmt"

	"github.com/spf13/cobra"
)

// applyEnv sets each option from its environment variable unless its flag
// was given. The SDK binds environment variables through viper, which turns
// a malformed number into 0 without a word; here "REDIS_PORT=abc" is an
// error.
func applyEnv(cmd *cobra.Command, opts []ConfigOption, getenv func(string) string) error {
	for _, o := range opts {
		arg, env := o.spec().argument, o.spec().env
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
