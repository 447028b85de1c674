package apt

import (
	"bufio"
	"bytes"
	"context"
	"path"
	"strings"

	"github.com/patchloop/patchloop/internal/patch/layer"
)

// infoSet is what was read of var/lib/dpkg/info.
type infoSet struct {
	// files maps base names to contents.
	files map[string][]byte
	// complete is true when every file of the directory was read, so that
	// the file lists of all installed packages are known.
	complete bool
	// lists maps a package's info name to its file list (clean paths).
	lists map[string][]string
}

// infoFiles reads the info files of the dpkg database: every file of the
// directory, or, when that is too many to follow at once, those of the
// planned packages.
func (st *imageState) infoFiles(ctx context.Context, changes []*pkgState) (*infoSet, error) {
	if st.db.distroless {
		return &infoSet{files: map[string][]byte{}, lists: map[string][]string{}}, nil
	}
	if st.infoRead {
		set := &infoSet{files: st.dirFiles(infoDir), complete: true, lists: map[string][]string{}}
		return set, nil
	}
	st.log.WarnContext(ctx, "apt patcher: too many dpkg info files to read at once; files shared with other packages may be removed")
	var want []string
	for _, ps := range changes {
		if ps.orig == nil {
			continue
		}
		for _, name := range []string{ps.orig.Name, ps.orig.Name + ":" + ps.orig.Arch} {
			for _, ext := range infoExtensions {
				want = append(want, pathOfInfo(name+"."+ext))
			}
		}
	}
	files, err := st.readFiles(ctx, want)
	if err != nil {
		return nil, err
	}
	set := &infoSet{files: map[string][]byte{}, lists: map[string][]string{}}
	for p, data := range files {
		set.files[path.Base(p)] = data
	}
	return set, nil
}

// infoExtensions are the info files dpkg keeps for a package.
var infoExtensions = []string{"list", "md5sums", "conffiles", "preinst", "postinst", "prerm", "postrm", "config", "templates", "triggers", "shlibs", "symbols", "clilibs"}

// list returns the file list of an installed package (clean paths without
// the root), or nil.
func (s *infoSet) list(r *installed) []string {
	for _, name := range []string{infoName(r.Name, r.Arch, r.MultiArch), r.Name, r.Name + ":" + r.Arch} {
		if l, ok := s.lists[name]; ok {
			return l
		}
		if data, ok := s.files[name+".list"]; ok {
			l := parseList(data)
			s.lists[name] = l
			return l
		}
	}
	return nil
}

// parseList reads a .list file.
func parseList(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		p := strings.Trim(strings.TrimSpace(sc.Text()), "/")
		if p == "" || p == "." {
			continue
		}
		out = append(out, path.Clean(p))
	}
	return out
}

// ownedPaths returns the paths listed by installed packages the plan does
// not change, and their usr-merge aliases; empty when not every list was
// read.
func (s *infoSet) ownedPaths(changes []*pkgState) map[string]bool {
	owned := map[string]bool{}
	if !s.complete {
		return owned
	}
	changing := map[string]bool{}
	for _, ps := range changes {
		if ps.orig != nil {
			changing[ps.orig.Name] = true
		}
	}
	for name, data := range s.files {
		base, ok := strings.CutSuffix(name, ".list")
		if !ok {
			continue
		}
		pkg, _, _ := strings.Cut(base, ":")
		if changing[pkg] {
			continue
		}
		for _, p := range parseList(data) {
			owned[p] = true
			owned[layer.UsrAlias(p)] = true
		}
	}
	return owned
}
