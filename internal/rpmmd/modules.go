package rpmmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Modules is what a repository's modules.yaml (EL8 and later AppStream)
// says: the module stream builds and the packages of each, and the
// default streams.
type Modules struct {
	// Builds are the modulemd documents.
	Builds []Module
	// Defaults maps a module name to its default stream
	// (modulemd-defaults documents).
	Defaults map[string]string
	byNEVRA  map[string]string
}

// Module is one build of a module stream.
type Module struct {
	Name, Stream, Version, Context, Arch string
	// Artifacts are the NEVRAs of its packages
	// ("nodejs-1:18.18.2-1.module+el8.9.0+20473+c4e3d824.x86_64").
	Artifacts []string
}

// StreamOf returns "name:stream" of the module whose build lists the
// package, "" when none does.
func (m *Modules) StreamOf(p *Package) string {
	if m == nil {
		return ""
	}
	e := p.Epoch
	if e == "" {
		e = "0"
	}
	return m.byNEVRA[p.Name+"-"+e+":"+p.Version+"-"+p.Release+"."+p.Arch]
}

// scalar decodes any YAML scalar as its text (streams and contexts may
// look like numbers).
type scalar string

// UnmarshalYAML keeps the scalar's text.
func (s *scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a scalar", n.Line)
	}
	*s = scalar(n.Value)
	return nil
}

// modulesDoc is the part of a modules.yaml document read here.
type modulesDoc struct {
	Document string `yaml:"document"`
	Data     struct {
		Name      scalar `yaml:"name"`
		Stream    scalar `yaml:"stream"`
		Version   scalar `yaml:"version"`
		Context   scalar `yaml:"context"`
		Arch      scalar `yaml:"arch"`
		Module    scalar `yaml:"module"`
		Artifacts struct {
			RPMs []scalar `yaml:"rpms"`
		} `yaml:"artifacts"`
	} `yaml:"data"`
}

// Limits of modules.yaml.
const (
	maxModulesSize = 256 << 20
	maxModuleDocs  = 1 << 16
)

// ParseModules reads an uncompressed modules.yaml: a stream of YAML
// documents, of which modulemd (v2) and modulemd-defaults are read.
func ParseModules(r io.Reader) (*Modules, error) {
	lr := &io.LimitedReader{R: r, N: maxModulesSize + 1}
	dec := yaml.NewDecoder(lr)
	m := &Modules{Defaults: map[string]string{}, byNEVRA: map[string]string{}}
	for n := 1; ; n++ {
		if n > maxModuleDocs {
			return nil, fmt.Errorf("modules.yaml: more than %d documents", maxModuleDocs)
		}
		var d modulesDoc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if lr.N <= 0 {
			return nil, fmt.Errorf("modules.yaml: larger than %d bytes", maxModulesSize)
		}
		if err != nil {
			return nil, fmt.Errorf("modules.yaml document %d: %w", n, err)
		}
		switch d.Document {
		case "modulemd", "modulemd-packager":
			b := Module{Name: string(d.Data.Name), Stream: string(d.Data.Stream), Version: string(d.Data.Version), Context: string(d.Data.Context), Arch: string(d.Data.Arch)}
			if b.Name == "" || b.Stream == "" {
				return nil, fmt.Errorf("modules.yaml document %d: a module without name or stream", n)
			}
			for _, a := range d.Data.Artifacts.RPMs {
				b.Artifacts = append(b.Artifacts, string(a))
				m.byNEVRA[string(a)] = b.Name + ":" + b.Stream
			}
			m.Builds = append(m.Builds, b)
		case "modulemd-defaults":
			if d.Data.Module != "" && d.Data.Stream != "" {
				m.Defaults[string(d.Data.Module)] = string(d.Data.Stream)
			}
		}
	}
	return m, nil
}

// loadModules fetches and parses the repository's modules.yaml, when
// repomd names one, and marks the packages it lists.
func (c *Client) loadModules(ctx context.Context, md *Metadata) error {
	df, ok := md.Repomd.Data["modules"]
	if !ok {
		return nil
	}
	u := md.BaseURL + df.Location
	zr, err := c.openData(ctx, u, df, maxModulesSize)
	if err != nil {
		return err
	}
	defer zr.Close()
	if md.Modules, err = ParseModules(zr); err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	for _, p := range md.Packages {
		p.Module = md.Modules.StreamOf(p)
	}
	return nil
}
