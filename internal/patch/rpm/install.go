package rpm

import (
	"maps"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/rpm"
)

// rpmMacrosDir holds the image's rpm macro files, where %_install_langs
// and %_excludedocs are set (UBI's macros.image-language-conf).
const rpmMacrosDir = "etc/rpm"

// installPolicy says which files of a package rpm installs in this image:
// documentation unless tsflags=nodocs or %_excludedocs, and only the
// languages of %_install_langs. Files left out are recorded as not
// installed, as rpm records them.
type installPolicy struct {
	nodocs bool
	// langs are the languages to install; nil means all.
	langs []string
}

// readInstallPolicy reads tsflags= of the package manager's main
// configuration and the rpm macro files.
func readInstallPolicy(mainFiles map[string][]byte, macros map[string][]byte) installPolicy {
	var pol installPolicy
	for _, data := range mainFiles {
		section := ""
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
				section = strings.TrimSpace(l[1 : len(l)-1])
				continue
			}
			k, v, ok := strings.Cut(l, "=")
			if ok && section == "main" && strings.TrimSpace(k) == "tsflags" {
				for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
					if f == "nodocs" {
						pol.nodocs = true
					}
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(macros)) {
		for _, l := range strings.Split(string(macros[name]), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "%_excludedocs":
				pol.nodocs = f[1] == "1"
			case "%_install_langs":
				if f[1] == "all" {
					pol.langs = nil
				} else {
					pol.langs = strings.Split(f[1], ":")
				}
			}
		}
	}
	return pol
}

// installs reports whether rpm installs the file in this image.
func (pol installPolicy) installs(f *FileInfo) bool {
	if pol.nodocs && f.Flags&rpm.FileDoc != 0 && f.Mode&rpm.ModeType != rpm.ModeDir {
		return false
	}
	if f.Lang == "" || pol.langs == nil {
		return true
	}
	for _, fl := range strings.Split(f.Lang, "|") {
		for _, want := range pol.langs {
			// "de" installs "de_DE" files; "C" only C's.
			if fl == want || strings.HasPrefix(fl, want+"_") || strings.HasPrefix(fl, want+"@") || strings.HasPrefix(want, fl+".") {
				return true
			}
		}
	}
	return false
}
