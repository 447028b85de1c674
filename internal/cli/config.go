package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/config"
)

func newConfigCommand(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with workflow config files",
	}
	cmd.AddCommand(newConfigValidateCommand(s))
	return cmd
}

func newConfigValidateCommand(s *streams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a workflow config file and print it normalized",
		Long: `Validate checks a continuous patching workflow config (version v1) and
reports every problem at once, each with its line:column and JSON path. A
valid config is printed in the normalized form Patchloop stores: standard
JSON with defaults filled in and comments and trailing commas removed.`,
		Example: `  patchloop config validate continuouspatching.json
  patchloop config validate continuouspatching.json -o json > normalized.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(args[0])
			if err != nil {
				return err
			}
			data, err := cfg.JSON()
			if err != nil {
				return err
			}
			if format == outputJSON {
				_, err = fmt.Fprintf(s.out, "%s\n", data)
				return err
			}
			enabled := len(cfg.EnabledRepositories())
			fmt.Fprintf(s.out, "%s: valid (version %s, tag-convention %s, %d repositories, %d enabled)\n",
				args[0], cfg.Version, cfg.TagConvention, len(cfg.Repositories), enabled)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json (the normalized config)")
	return cmd
}

// loadConfig loads and validates a config file; problems are usage errors.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}
