package workflow

import (
	"fmt"
	"strings"

	"github.com/patchloop/patchloop/internal/config"
	"github.com/patchloop/patchloop/internal/schedule"
)

// checkTarget validates a registry host and workflow type; an empty type
// means TypeContinuousPatchV1.
func (e *Engine) checkTarget(host, typ string) (string, string, error) {
	host = strings.TrimSpace(host)
	if host == "" {
		return "", "", fmt.Errorf("%w: no registry given", ErrInvalidInput)
	}
	if _, err := e.opts.Registry.Registry(host); err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	if typ == "" {
		typ = TypeContinuousPatchV1
	}
	if typ != TypeContinuousPatchV1 {
		return "", "", fmt.Errorf("%w: workflow type %q: the only type is %s", ErrInvalidInput, typ, TypeContinuousPatchV1)
	}
	return host, typ, nil
}

// parseConfig validates a config file and returns it with its normalized
// JSON; problems are listed as file:line:col messages.
func parseConfig(name string, data []byte) (*config.Config, []byte, error) {
	if name == "" {
		name = "config"
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%w: %s: the config is empty", ErrInvalidInput, name)
	}
	cfg, err := config.Parse(name, data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	normalized, err := cfg.JSON()
	if err != nil {
		return nil, nil, err
	}
	return cfg, normalized, nil
}

// parseSchedule validates a schedule such as "1d".
func parseSchedule(s string) (schedule.Schedule, error) {
	sched, err := schedule.Parse(s)
	if err != nil {
		return schedule.Schedule{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return sched, nil
}
