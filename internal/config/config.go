// Package config parses, validates and normalizes the workflow config
// (version v1) that selects the repositories and tags a continuous patching
// workflow patches.
//
// The input is JSON with comments and trailing commas (JWCC): // and /* */
// comments are ignored, and a comma may follow the last member of an object
// or the last element of an array. Everything else follows RFC 8259. Parse
// reports every problem it finds at once, each with its file, line, column
// and JSON path. The stored form of a config is the standard JSON that
// [Config.JSON] writes.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/patchloop/patchloop/internal/tags"
)

// MaxSize is the largest config file accepted, in bytes (10 MiB).
const MaxSize = 10 << 20

// MaxDepth is the deepest nesting of objects and arrays accepted.
const MaxDepth = 64

// Version is the only supported value of the "version" field.
const Version = "v1"

// Wildcard is the tag that selects every tag of a repository.
const Wildcard = "*"

// Config is a parsed and validated workflow config. The JSON field tags give
// the normalized form written by [Config.JSON].
type Config struct {
	// Version is the schema version; always [Version] after Parse.
	Version string `json:"version"`
	// TagConvention says how patched images are tagged; Parse fills in
	// tags.Incremental when the file does not say.
	TagConvention tags.Convention `json:"tag-convention"`
	// Repositories are the selected repositories, in file order.
	Repositories []Repository `json:"repositories"`
}

// Repository selects tags of one repository.
type Repository struct {
	// Name is the repository name within the registry, such as "ubuntu".
	Name string `json:"repository"`
	// Tags are the original tags to patch, or just [Wildcard] for all tags.
	Tags []string `json:"tags"`
	// Enabled says whether the repository is patched; Parse fills in true
	// when the file does not say.
	Enabled bool `json:"enabled"`
}

// AllTags reports whether the repository selects all its tags (tags ["*"]).
func (r Repository) AllTags() bool {
	return len(r.Tags) == 1 && r.Tags[0] == Wildcard
}

// EnabledRepositories returns the enabled repositories, in file order.
func (c *Config) EnabledRepositories() []Repository {
	var out []Repository
	for _, r := range c.Repositories {
		if r.Enabled {
			out = append(out, r)
		}
	}
	return out
}

// JSON returns the normalized config: standard JSON indented by two spaces,
// keys in a fixed order, defaults written explicitly, no trailing newline.
// An empty TagConvention is written as incremental.
func (c *Config) JSON() ([]byte, error) {
	out := *c
	if out.TagConvention == "" {
		out.TagConvention = tags.Incremental
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode workflow config: %w", err)
	}
	return data, nil
}

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse parses and validates a workflow config. name is the file name used
// in problem reports. data may start with a UTF-8 byte order mark. On
// failure the error is an [*Errors] listing every problem found.
func Parse(name string, data []byte) (*Config, error) {
	if len(data) > MaxSize {
		return nil, &Errors{Problems: []Problem{tooLarge(name)}}
	}
	d := decoder{file: name, lex: newLexer(bytes.TrimPrefix(data, utf8BOM))}
	return d.decode()
}

// Load reads and parses the workflow config file at path. A file larger than
// [MaxSize] is rejected without being read in full.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load workflow config: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load workflow config: %w", err)
	}
	if info.Mode().IsRegular() && info.Size() > MaxSize {
		return nil, &Errors{Problems: []Problem{tooLarge(path)}}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("load workflow config %s: %w", path, err)
	}
	return Parse(path, data)
}

// Normalize parses data like [Parse] and returns the normalized config
// written by [Config.JSON].
func Normalize(name string, data []byte) ([]byte, error) {
	cfg, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	return cfg.JSON()
}

func tooLarge(file string) Problem {
	return Problem{File: file, Msg: fmt.Sprintf(
		"the file is larger than %d bytes (10 MiB), the limit for a workflow config; "+
			"select tags with \"*\" instead of long tag lists", MaxSize)}
}
