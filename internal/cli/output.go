package cli

import (
	"encoding/json"
	"io"
)

// outputFormat is the -o flag shared by commands that print results.
type outputFormat string

const (
	outputText outputFormat = "text"
	outputJSON outputFormat = "json"
)

func parseOutput(s string) (outputFormat, error) {
	switch outputFormat(s) {
	case "", outputText, "table":
		return outputText, nil
	case outputJSON:
		return outputJSON, nil
	}
	return "", usagef("--output %q: must be text or json", s)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
