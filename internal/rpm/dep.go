package rpm

import (
	"strings"
)

// Sense is rpm's dependency flag word (RPMSENSE_*): the comparison of a
// versioned dependency and when it is needed.
type Sense uint32

// Sense bits rpm writes in PROVIDEFLAGS, REQUIREFLAGS and the like.
const (
	SenseLess    Sense = 1 << 1
	SenseGreater Sense = 1 << 2
	SenseEqual   Sense = 1 << 3
	// SenseCompare masks the comparison bits.
	SenseCompare   Sense = SenseLess | SenseGreater | SenseEqual
	SensePostTrans Sense = 1 << 5
	// SensePreReq marks a legacy PreReq, also set with the scriptlet bits.
	SensePreReq       Sense = 1 << 6
	SensePreTrans     Sense = 1 << 7
	SenseInterp       Sense = 1 << 8
	SenseScriptPre    Sense = 1 << 9
	SenseScriptPost   Sense = 1 << 10
	SenseScriptPreUn  Sense = 1 << 11
	SenseScriptPostUn Sense = 1 << 12
	// SenseRPMLib marks an rpmlib(...) feature dependency.
	SenseRPMLib Sense = 1 << 24
	// SenseConfig marks a config(name) provide.
	SenseConfig Sense = 1 << 28
)

// Pre reports whether the dependency is needed before installation, as
// repository metadata marks it with pre="1" (createrepo's rule: a legacy
// PreReq, or a Requires(pre) or Requires(post)).
func (s Sense) Pre() bool {
	return s&(SensePreReq|SenseScriptPre|SenseScriptPost) != 0
}

// Op returns the comparison as repository metadata spells it ("EQ", "LT",
// "LE", "GT", "GE") or "" for an unversioned dependency.
func (s Sense) Op() string {
	switch s & SenseCompare {
	case SenseEqual:
		return "EQ"
	case SenseLess:
		return "LT"
	case SenseLess | SenseEqual:
		return "LE"
	case SenseGreater:
		return "GT"
	case SenseGreater | SenseEqual:
		return "GE"
	}
	return ""
}

// SenseOf returns the comparison bits of a repository metadata operator
// ("EQ", "LT", "LE", "GT", "GE"); ok is false for anything else.
func SenseOf(op string) (s Sense, ok bool) {
	switch op {
	case "EQ":
		return SenseEqual, true
	case "LT":
		return SenseLess, true
	case "LE":
		return SenseLess | SenseEqual, true
	case "GT":
		return SenseGreater, true
	case "GE":
		return SenseGreater | SenseEqual, true
	case "":
		return 0, true
	}
	return 0, false
}

// Dep is one dependency (a Provides, Requires, Conflicts, Obsoletes…
// entry): a name, optionally with a comparison and an [epoch:]version[-release].
// A rich (boolean) dependency keeps its whole expression in Name, as rpm
// does ("(foo or bar)").
type Dep struct {
	Name    string
	Flags   Sense
	Version string
}

// Rich reports whether the dependency is a boolean expression.
func (d Dep) Rich() bool { return strings.HasPrefix(d.Name, "(") }

// String prints the dependency as rpm does ("foo >= 1:2.0-1").
func (d Dep) String() string {
	if d.Version == "" || d.Flags&SenseCompare == 0 {
		return d.Name
	}
	op := map[Sense]string{SenseEqual: "=", SenseLess: "<", SenseLess | SenseEqual: "<=", SenseGreater: ">", SenseGreater | SenseEqual: ">="}[d.Flags&SenseCompare]
	return d.Name + " " + op + " " + d.Version
}

// EVR joins an epoch, version and release as rpm prints them: the epoch
// only when it is set and not "0", the release only when set.
func EVR(epoch, version, release string) string {
	s := version
	if epoch != "" && epoch != "0" {
		s = epoch + ":" + s
	}
	if release != "" {
		s += "-" + release
	}
	return s
}
