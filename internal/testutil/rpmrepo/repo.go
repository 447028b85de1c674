package rpmrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/patchloop/patchloop/internal/rpm"
)

// Repository is one rpm-md repository of a Server.
type Repository struct {
	// Path is the repository root under the server ("rocky/9/BaseOS/x86_64/os").
	Path     string
	Packages []Package
	// Key signs repomd.xml (repomd.xml.asc); nil means RepoKey. Unsigned
	// publishes no repomd.xml.asc.
	Key      *Key
	Unsigned bool
	// Compression of the metadata files: "gz" (default), "xz" or "zst".
	Compression string
	// Modules, when set, are published in modules.yaml (EL8 modularity).
	Modules []ModuleStream
}

// ModuleStream is one module stream build of a repository.
type ModuleStream struct {
	Name, Stream string
	// Version and Context default to 1 and "patchloop".
	Version uint64
	Context string
	// Packages are the NEVRAs (with epoch: "nodejs-1:18.1-1.x86_64") of
	// its packages; arch defaults to x86_64.
	Packages []string
	Arch     string
	// Default makes it the module's default stream.
	Default bool
}

// Config configures a Server.
type Config struct {
	Repositories []Repository
}

// Server serves rpm-md repositories on loopback. Files can be read and
// replaced (to tamper) while it runs.
type Server struct {
	srv   *httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
	built map[string]*Built // by repo path + "/" + NEVRA
}

// New builds every package, publishes the repositories and serves them
// until the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := &Server{files: map[string][]byte{}, hits: map[string]int{}, built: map[string]*Built{}}
	for _, r := range cfg.Repositories {
		if err := s.Publish(r); err != nil {
			t.Fatal(err)
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's root URL.
func (s *Server) URL() string { return s.srv.URL }

// RepoURL is the URL of a repository root (what baseurl= names).
func (s *Server) RepoURL(repoPath string) string {
	return s.srv.URL + "/" + strings.Trim(repoPath, "/") + "/"
}

// File returns a served file (nil when absent), by path under the
// server ("rocky/9/BaseOS/x86_64/os/repodata/repomd.xml").
func (s *Server) File(p string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.files[strings.TrimPrefix(p, "/")])
}

// SetFile replaces (or with nil removes) a served file.
func (s *Server) SetFile(p string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p = strings.TrimPrefix(p, "/")
	if data == nil {
		delete(s.files, p)
		return
	}
	s.files[p] = bytes.Clone(data)
}

// Hits returns how many times a file was requested (304s included).
func (s *Server) Hits(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[strings.TrimPrefix(p, "/")]
}

// Built returns a published package by repository path and NEVRA.
func (s *Server) Built(repoPath, nevra string) *Built {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.built[strings.Trim(repoPath, "/")+"/"+nevra]
}

// PackagePath returns the served path of a package of a repository.
func PackagePath(repoPath string, p Package) string {
	return strings.Trim(repoPath, "/") + "/Packages/" + p.FileName()
}

// RepomdPath returns the served path of a repository's repomd.xml.
func RepomdPath(repoPath string) string { return strings.Trim(repoPath, "/") + "/repodata/repomd.xml" }

// serve answers GETs, with an ETag so that caches revalidate.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	data, ok := s.files[p]
	s.hits[p]++
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(data)
}

// Publish builds a repository's packages and metadata and serves them,
// replacing what the path held.
func (s *Server) Publish(r Repository) error {
	root := strings.Trim(r.Path, "/")
	var built []*Built
	for _, p := range r.Packages {
		b, err := Build(p)
		if err != nil {
			return err
		}
		built = append(built, b)
	}
	files, err := Metadata(r, built)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.files {
		if strings.HasPrefix(p, root+"/repodata/") {
			delete(s.files, p)
		}
	}
	for _, b := range built {
		s.files[PackagePath(root, b.Package)] = b.Data
		s.built[root+"/"+b.Package.NEVRA()] = b
	}
	for name, data := range files {
		s.files[root+"/"+name] = data
	}
	return nil
}

// Metadata returns the repodata files of a repository of built packages
// (paths relative to its root): repomd.xml, its signature unless
// Unsigned, and primary, filelists and other, compressed.
func Metadata(r Repository, built []*Built) (map[string][]byte, error) {
	ext := r.Compression
	if ext == "" {
		ext = "gz"
	}
	comp := map[string]string{"gz": "gzip", "xz": "xz", "zst": "zstd"}[ext]
	if comp == "" {
		return nil, fmt.Errorf("repository %s: compression %q: want gz, xz or zst", r.Path, ext)
	}
	out := map[string][]byte{}
	var repomd bytes.Buffer
	repomd.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">` + "\n  <revision>1717200000</revision>\n")
	for _, kind := range []string{"primary", "filelists", "other"} {
		open := metadataXML(kind, built)
		data, err := compress(comp, open)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		osum := sha256.Sum256(open)
		loc := "repodata/" + hex.EncodeToString(sum[:]) + "-" + kind + ".xml." + ext
		out[loc] = data
		fmt.Fprintf(&repomd, `  <data type="%s">
    <checksum type="sha256">%x</checksum>
    <open-checksum type="sha256">%x</open-checksum>
    <location href="%s"/>
    <timestamp>1717200000</timestamp>
    <size>%d</size>
    <open-size>%d</open-size>
  </data>
`, kind, sum, osum, loc, len(data), len(open))
	}
	if len(r.Modules) > 0 {
		open := modulesYAML(r.Modules)
		data, err := compress(comp, open)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		osum := sha256.Sum256(open)
		loc := "repodata/" + hex.EncodeToString(sum[:]) + "-modules.yaml." + ext
		out[loc] = data
		fmt.Fprintf(&repomd, `  <data type="modules">
    <checksum type="sha256">%x</checksum>
    <open-checksum type="sha256">%x</open-checksum>
    <location href="%s"/>
    <timestamp>1717200000</timestamp>
    <size>%d</size>
    <open-size>%d</open-size>
  </data>
`, sum, osum, loc, len(data), len(open))
	}
	repomd.WriteString("</repomd>\n")
	out["repodata/repomd.xml"] = repomd.Bytes()
	if !r.Unsigned {
		k := r.Key
		if k == nil {
			k = RepoKey()
		}
		out["repodata/repomd.xml.asc"] = k.SignArmored(repomd.Bytes())
	}
	return out, nil
}

// esc escapes XML text and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// primaryFile reports whether createrepo lists a file in primary.xml:
// files under /etc, in a bin directory, and /usr/lib/sendmail.
func primaryFile(p string) bool {
	return strings.HasPrefix(p, "/etc/") || strings.Contains(p, "bin/") || p == "/usr/lib/sendmail"
}

// metadataXML writes primary.xml, filelists.xml or other.xml.
func metadataXML(kind string, built []*Built) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	switch kind {
	case "primary":
		fmt.Fprintf(&b, `<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%d">`+"\n", len(built))
	case "filelists":
		fmt.Fprintf(&b, `<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="%d">`+"\n", len(built))
	default:
		fmt.Fprintf(&b, `<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="%d">`+"\n", len(built))
	}
	for _, pk := range built {
		p := pk.Package
		epoch := p.Epoch
		if epoch == "" {
			epoch = "0"
		}
		version := fmt.Sprintf(`<version epoch="%s" ver="%s" rel="%s"/>`, esc(epoch), esc(p.Version), esc(p.Release))
		if kind != "primary" {
			fmt.Fprintf(&b, `<package pkgid="%s" name="%s" arch="%s">%s`, pk.SHA256(), esc(p.Name), esc(p.Arch), version)
			if kind == "filelists" {
				writeFiles(&b, pk.Files, func(string) bool { return true })
			}
			b.WriteString("</package>\n")
			continue
		}
		fmt.Fprintf(&b, `<package type="rpm"><name>%s</name><arch>%s</arch>%s<checksum type="sha256" pkgid="YES">%s</checksum>`, esc(p.Name), esc(p.Arch), version, pk.SHA256())
		fmt.Fprintf(&b, `<summary>Test package %s</summary><description>Test package %s, built by Patchloop's tests.</description><packager></packager><url></url>`, esc(p.Name), esc(p.Name))
		fmt.Fprintf(&b, `<time file="%d" build="%d"/><size package="%d" installed="%d" archive="%d"/>`, p.BuildTime, p.BuildTime, len(pk.Data), pk.InstalledSize, pk.ArchiveSize)
		fmt.Fprintf(&b, `<location href="Packages/%s"/><format><rpm:license>MIT</rpm:license><rpm:vendor></rpm:vendor><rpm:group>Unspecified</rpm:group><rpm:buildhost>patchloop.test</rpm:buildhost>`, esc(p.FileName()))
		fmt.Fprintf(&b, `<rpm:sourcerpm>%s</rpm:sourcerpm><rpm:header-range start="%d" end="%d"/>`, esc(p.SourceRPM), pk.HeaderStart, pk.HeaderEnd)
		writeDeps(&b, "provides", pk.Provides)
		// As createrepo: no rpmlib() features, each (name, flags,
		// version, pre) once.
		var requires []rpm.Dep
		seen := map[rpm.Dep]bool{}
		for _, d := range pk.Requires {
			key := rpm.Dep{Name: d.Name, Flags: d.Flags & rpm.SenseCompare, Version: d.Version}
			if d.Flags.Pre() {
				key.Flags |= rpm.SensePreReq
			}
			if strings.HasPrefix(d.Name, "rpmlib(") || seen[key] {
				continue
			}
			seen[key] = true
			requires = append(requires, d)
		}
		writeDeps(&b, "requires", requires)
		writeDeps(&b, "conflicts", p.Conflicts)
		writeDeps(&b, "obsoletes", p.Obsoletes)
		writeFiles(&b, pk.Files, primaryFile)
		b.WriteString("</format></package>\n")
	}
	switch kind {
	case "primary":
		b.WriteString("</metadata>\n")
	case "filelists":
		b.WriteString("</filelists>\n")
	default:
		b.WriteString("</otherdata>\n")
	}
	return b.Bytes()
}

// writeDeps writes an rpm: dependency list.
func writeDeps(b *bytes.Buffer, kind string, deps []rpm.Dep) {
	if len(deps) == 0 {
		return
	}
	fmt.Fprintf(b, "<rpm:%s>", kind)
	for _, d := range deps {
		fmt.Fprintf(b, `<rpm:entry name="%s"`, esc(d.Name))
		if op := d.Flags.Op(); op != "" && d.Version != "" {
			e, vr, ok := strings.Cut(d.Version, ":")
			if !ok {
				e, vr = "0", d.Version
			}
			v, rel, _ := strings.Cut(vr, "-")
			fmt.Fprintf(b, ` flags="%s" epoch="%s" ver="%s"`, op, esc(e), esc(v))
			if rel != "" {
				fmt.Fprintf(b, ` rel="%s"`, esc(rel))
			}
		}
		if d.Flags.Pre() {
			b.WriteString(` pre="1"`)
		}
		b.WriteString("/>")
	}
	fmt.Fprintf(b, "</rpm:%s>", kind)
}

// writeFiles writes <file> entries.
func writeFiles(b *bytes.Buffer, files []File, keep func(string) bool) {
	for _, f := range files {
		if !keep(f.Path) {
			continue
		}
		typ := ""
		switch {
		case f.Dir:
			typ = ` type="dir"`
		case f.Flags&rpm.FileGhost != 0:
			typ = ` type="ghost"`
		}
		fmt.Fprintf(b, "<file%s>%s</file>", typ, esc(f.Path))
	}
}

// RepoFile returns a .repo file naming one repository of the server, as
// an image would have in /etc/yum.repos.d: gpgcheck and repo_gpgcheck on,
// its key at /etc/pki/rpm-gpg/RPM-GPG-KEY-patchloop (see KeyPath).
func RepoFile(id, baseURL string) []byte {
	return []byte(fmt.Sprintf("[%s]\nname=Test repository %s\nbaseurl=%s\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file:///%s\n", id, id, baseURL, KeyPath))
}

// KeyPath is where test images keep the repository key.
var KeyPath = path.Join("etc/pki/rpm-gpg", "RPM-GPG-KEY-patchloop")

// modulesYAML writes modules.yaml: a modulemd v2 document per stream and
// a modulemd-defaults document per default stream.
func modulesYAML(ms []ModuleStream) []byte {
	var b bytes.Buffer
	for _, m := range ms {
		version, context, arch := m.Version, m.Context, m.Arch
		if version == 0 {
			version = 1
		}
		if context == "" {
			context = "patchloop"
		}
		if arch == "" {
			arch = "x86_64"
		}
		fmt.Fprintf(&b, "---\ndocument: modulemd\nversion: 2\ndata:\n  name: %s\n  stream: %q\n  version: %d\n  context: %s\n  arch: %s\n", m.Name, m.Stream, version, context, arch)
		fmt.Fprintf(&b, "  summary: Test module %s\n  description: >-\n    Test module %s, stream %s.\n  license:\n    module:\n    - MIT\n", m.Name, m.Name, m.Stream)
		b.WriteString("  profiles:\n    common:\n      rpms:\n")
		for _, p := range m.Packages {
			name := p
			if i := strings.LastIndex(p, "-"); i > 0 {
				if j := strings.LastIndex(p[:i], "-"); j > 0 {
					name = p[:j]
				}
			}
			fmt.Fprintf(&b, "      - %s\n", name)
		}
		b.WriteString("  artifacts:\n    rpms:\n")
		for _, p := range m.Packages {
			fmt.Fprintf(&b, "    - %s\n", p)
		}
		b.WriteString("...\n")
		if m.Default {
			fmt.Fprintf(&b, "---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: %s\n  stream: %q\n  profiles:\n    %q: [common]\n...\n", m.Name, m.Stream, m.Stream)
		}
	}
	return b.Bytes()
}
