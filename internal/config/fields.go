package config

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/patchloop/patchloop/internal/tags"
)

// This file decodes the fields of config v1 and checks their rules.

// Field names of config v1.
const (
	fieldVersion      = "version"
	fieldConvention   = "tag-convention"
	fieldRepositories = "repositories"
	fieldRepository   = "repository"
	fieldTags         = "tags"
	fieldEnabled      = "enabled"
)

const (
	exampleRepository = `{"repository": "ubuntu", "tags": ["*"]}`
	exampleTags       = `["jammy-20240111"], or ["*"] for all tags`
)

// config reads the top-level object.
func (d *decoder) config() (*Config, error) {
	cfg := &Config{TagConvention: tags.Incremental}
	open := d.lex.pos()
	seen := map[string]pos{}
	err := d.lex.object(func(key string, keyPos pos) error {
		if !d.field(topFields, "", seen, key, keyPos) {
			return d.lex.skipValue()
		}
		switch key {
		case fieldVersion:
			return d.version(cfg)
		case fieldConvention:
			return d.convention(cfg)
		}
		return d.repositories(cfg)
	})
	if err != nil {
		return nil, err
	}
	if _, ok := seen[fieldVersion]; !ok {
		d.report(open, fieldVersion, `required field is missing; set "version": "v1"`)
	}
	if _, ok := seen[fieldRepositories]; !ok {
		d.report(open, fieldRepositories, `required field is missing; add "repositories": [%s]`, exampleRepository)
	}
	return cfg, nil
}

// field checks that key is known and not repeated in its object, reporting
// a problem and returning false otherwise.
func (d *decoder) field(fs fieldSet, parent string, seen map[string]pos, key string, keyPos pos) bool {
	path := joinPath(parent, key)
	if !slices.Contains(fs.names, key) {
		d.report(keyPos, path, "%s", fs.unknown(key))
		return false
	}
	if first, dup := seen[key]; dup {
		d.report(keyPos, path, "duplicate field %q (first at %s); remove one of them", key, first)
		return false
	}
	seen[key] = keyPos
	return true
}

// version reads the version field.
func (d *decoder) version(cfg *Config) error {
	v, err := d.lex.value()
	switch {
	case err != nil:
		return err
	case v.kind != kindString:
		d.report(v.pos, fieldVersion, `must be a string; set "version": "v1"`)
	case v.str != Version:
		d.report(v.pos, fieldVersion, `unsupported version %s; set "version": "v1"`, quote(v.str))
	default:
		cfg.Version = v.str
	}
	return nil
}

// convention reads the tag-convention field.
func (d *decoder) convention(cfg *Config) error {
	v, err := d.lex.value()
	if err != nil {
		return err
	}
	if v.kind != kindString {
		d.report(v.pos, fieldConvention, `must be the string "incremental" or "floating"`)
		return nil
	}
	c, perr := tags.ParseConvention(v.str)
	if v.str == "" || perr != nil {
		hint := `use "incremental" (the default) or "floating"`
		if s := suggest(v.str, []string{string(tags.Incremental), string(tags.Floating)}); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		d.report(v.pos, fieldConvention, "unknown tag convention %s; %s", quote(v.str), hint)
		return nil
	}
	cfg.TagConvention = c
	return nil
}

// repositories reads the repositories array.
func (d *decoder) repositories(cfg *Config) error {
	l := d.lex
	if l.peek() != '[' {
		v, err := l.value()
		if err == nil {
			d.report(v.pos, fieldRepositories, "must be an array such as [%s]", exampleRepository)
		}
		return err
	}
	open := l.pos()
	names := map[string]pos{}
	cfg.Repositories = []Repository{}
	err := l.array(func(i int) error {
		r, err := d.repository(i, names)
		cfg.Repositories = append(cfg.Repositories, r)
		return err
	})
	if err == nil && len(cfg.Repositories) == 0 {
		d.report(open, fieldRepositories, "must not be empty; add a repository such as %s", exampleRepository)
	}
	return err
}

// repository reads repositories[i]; names holds the names seen so far.
func (d *decoder) repository(i int, names map[string]pos) (Repository, error) {
	l := d.lex
	path := index(fieldRepositories, i)
	r := Repository{Enabled: true}
	if l.peek() != '{' {
		v, err := l.value()
		if err == nil {
			d.report(v.pos, path, "must be an object such as %s", exampleRepository)
		}
		return r, err
	}
	open := l.pos()
	seen := map[string]pos{}
	err := l.object(func(key string, keyPos pos) error {
		if !d.field(repoFields, path, seen, key, keyPos) {
			return l.skipValue()
		}
		switch key {
		case fieldRepository:
			return d.repositoryName(path, &r, names)
		case fieldTags:
			return d.tagList(path, &r)
		}
		return d.enabled(path, &r)
	})
	if err != nil {
		return r, err
	}
	if _, ok := seen[fieldRepository]; !ok {
		d.report(open, path+"."+fieldRepository, `required field is missing; name the repository, such as "repository": "ubuntu"`)
	}
	if _, ok := seen[fieldTags]; !ok {
		d.report(open, path+"."+fieldTags, "required field is missing; list the tags to patch, such as \"tags\": %s", exampleTags)
	}
	return r, nil
}

// repositoryName reads the repository field of the entry at parent.
func (d *decoder) repositoryName(parent string, r *Repository, names map[string]pos) error {
	v, err := d.lex.value()
	if err != nil {
		return err
	}
	path := parent + "." + fieldRepository
	if v.kind != kindString {
		d.report(v.pos, path, `must be a string such as "ubuntu"`)
		return nil
	}
	r.Name = v.str
	if msg := checkRepository(v.str); msg != "" {
		d.report(v.pos, path, "%s", msg)
	} else if first, dup := names[v.str]; dup {
		d.report(v.pos, path, "duplicate repository %s (first at %s); merge the two entries into one", quote(v.str), first)
	} else {
		names[v.str] = v.pos
	}
	return nil
}

// tagList reads the tags of the repository at parent.
func (d *decoder) tagList(parent string, r *Repository) error {
	l := d.lex
	path := parent + "." + fieldTags
	if l.peek() != '[' {
		v, err := l.value()
		if err == nil {
			d.report(v.pos, path, "must be an array such as %s", exampleTags)
		}
		return err
	}
	open := l.pos()
	seen := map[string]pos{}
	wildcard, wildcardPath := pos{}, ""
	n := 0
	r.Tags = []string{}
	err := l.array(func(j int) error {
		n++
		v, err := l.value()
		switch {
		case err != nil:
			return err
		case v.kind != kindString:
			d.report(v.pos, index(path, j), `must be a string such as "jammy-20240111"`)
			return nil
		}
		r.Tags = append(r.Tags, v.str)
		if first, dup := seen[v.str]; dup {
			d.report(v.pos, index(path, j), "duplicate tag %s (first at %s); remove one of them", quote(v.str), first)
			return nil
		}
		seen[v.str] = v.pos
		if v.str == Wildcard {
			wildcard, wildcardPath = v.pos, index(path, j)
		} else if msg := checkTag(v.str); msg != "" {
			d.report(v.pos, index(path, j), "%s", msg)
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case n == 0:
		d.report(open, path, "must not be empty; list tags such as %s", exampleTags)
	case wildcardPath != "" && n > 1:
		d.report(wildcard, wildcardPath, `"*" must be the only tag of its repository; remove the other tags, or remove "*" to patch only the listed tags`)
	}
	return nil
}

// enabled reads the enabled field of the entry at parent.
func (d *decoder) enabled(parent string, r *Repository) error {
	v, err := d.lex.value()
	if err != nil {
		return err
	}
	if v.kind != kindBool {
		d.report(v.pos, parent+"."+fieldEnabled, "must be true or false")
		return nil
	}
	r.Enabled = v.b
	return nil
}

// index appends an array index to a JSON path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }
