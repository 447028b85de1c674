package rpm

import (
	"strings"

	"github.com/patchloop/patchloop/internal/imagefs"
)

// readStreams enables the module streams of the installed packages'
// labels and of the module state files that say enabled.
func (st *imageState) readStreams(modules []imagefs.Node) {
	for _, in := range st.packages {
		if s := modularStream(in.pkg.ModularityLabel); s != "" {
			name, stream, _ := strings.Cut(s, ":")
			st.streams[name] = stream
		}
	}
	for _, n := range modules {
		name, stream, enabled := parseModuleState(n.Content)
		if name != "" {
			st.moduleStates[name] = true
		}
		if name != "" && enabled {
			st.streams[name] = stream
		}
	}
}

// parseModuleState reads a dnf module state file (etc/dnf/modules.d/
// NAME.module): its section name, stream= and state=.
func parseModuleState(data []byte) (name, stream string, enabled bool) {
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			name = strings.TrimSpace(l[1 : len(l)-1])
		case strings.HasPrefix(l, "stream"):
			if _, v, ok := strings.Cut(l, "="); ok {
				stream = strings.TrimSpace(v)
			}
		case strings.HasPrefix(l, "state"):
			if _, v, ok := strings.Cut(l, "="); ok {
				v = strings.TrimSpace(v)
				enabled = v == "enabled" || v == "1"
			}
		}
	}
	return name, stream, enabled && stream != ""
}

// enableDefaultStreams enables the default stream (modules.yaml's
// modulemd-defaults) of each module the image gives no state, as dnf
// does.
func (st *imageState) enableDefaultStreams(defaults map[string]string) {
	for name, stream := range defaults {
		if _, ok := st.streams[name]; !ok && !st.moduleStates[name] && stream != "" {
			st.streams[name] = stream
		}
	}
}
