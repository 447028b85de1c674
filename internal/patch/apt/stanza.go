package apt

import (
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/deb"
)

// statusFieldOrder is the order in which dpkg writes the fields it knows
// in var/lib/dpkg/status; other fields follow, in the package's order.
var statusFieldOrder = []string{
	"Package", "Essential", "Protected", "Status", "Priority", "Section", "Installed-Size",
	"Origin", "Maintainer", "Bugs", "Architecture", "Multi-Arch", "Source", "Version",
	"Config-Version", "Replaces", "Provides", "Depends", "Pre-Depends", "Recommends",
	"Suggests", "Breaks", "Conflicts", "Enhances", "Conffiles", "Description",
}

// statusStanza renders the database record of a package installed from its
// control file: the control fields in dpkg's order, with Status (when
// withStatus) and the Conffiles field added.
func statusStanza(control deb.Paragraph, withStatus bool, conffiles []statusConffile) ([]byte, error) {
	fields := slices.Clone(control.Fields)
	fields = slices.DeleteFunc(fields, func(f deb.Field) bool {
		return strings.EqualFold(f.Name, "Status") || strings.EqualFold(f.Name, "Conffiles")
	})
	if withStatus {
		fields = append(fields, deb.Field{Name: "Status", Value: "install ok installed"})
	}
	if len(conffiles) > 0 {
		var b strings.Builder
		for _, c := range conffiles {
			b.WriteString("\n/" + c.Path + " " + c.MD5)
			for _, f := range c.Flags {
				b.WriteString(" " + f)
			}
		}
		fields = append(fields, deb.Field{Name: "Conffiles", Value: b.String()})
	}
	rank := func(name string) int {
		for i, k := range statusFieldOrder {
			if strings.EqualFold(k, name) {
				return i
			}
		}
		return len(statusFieldOrder)
	}
	slices.SortStableFunc(fields, func(a, b deb.Field) int { return rank(a.Name) - rank(b.Name) })
	return deb.Paragraph{Fields: fields}.MarshalText()
}
