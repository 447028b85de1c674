package rpm

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/patchloop/patchloop/internal/rpm"
)

// fromHeader reads a package's identity, dependencies and file list from
// its main header (installed or from a package file).
func fromHeader(h *rpm.Header) (*Package, error) {
	p := &Package{}
	var err error
	str := func(t rpm.Tag, dst *string, required bool) {
		if err != nil {
			return
		}
		s, e := h.String(t)
		switch {
		case e == nil:
			*dst = s
		case errors.Is(e, rpm.ErrNoTag) && !required:
		default:
			err = fmt.Errorf("tag %d: %w", t, e)
		}
	}
	str(rpm.TagName, &p.Name, true)
	str(rpm.TagVersion, &p.EVR.Version, true)
	str(rpm.TagRelease, &p.EVR.Release, false)
	str(rpm.TagArch, &p.Arch, false)
	str(rpm.TagSourceRPM, &p.SourceRPM, false)
	str(rpm.TagModularityLabel, &p.ModularityLabel, false)
	if err != nil {
		return nil, err
	}
	if h.Has(rpm.TagEpoch) {
		e, err := h.Int(rpm.TagEpoch)
		if err != nil {
			return nil, fmt.Errorf("package %s: epoch: %w", p.Name, err)
		}
		p.EVR.Epoch = normEpoch(strconv.FormatInt(e, 10))
	}
	for _, d := range []struct {
		dst               *[]Dep
		name, flags, vers rpm.Tag
	}{
		{&p.Provides, rpm.TagProvideName, rpm.TagProvideFlags, rpm.TagProvideVersion},
		{&p.Requires, rpm.TagRequireName, rpm.TagRequireFlags, rpm.TagRequireVersion},
		{&p.Conflicts, rpm.TagConflictName, rpm.TagConflictFlags, rpm.TagConflictVersion},
		{&p.Obsoletes, rpm.TagObsoleteName, rpm.TagObsoleteFlags, rpm.TagObsoleteVersion},
	} {
		if *d.dst, err = depsOf(h, d.name, d.flags, d.vers); err != nil {
			return nil, fmt.Errorf("package %s: %w", p.NEVRA(), err)
		}
	}
	if p.Files, err = rpm.HeaderFiles(h); err != nil {
		return nil, fmt.Errorf("package %s: %w", p.NEVRA(), err)
	}
	if h.Has(rpm.TagFileDigestAlgo) {
		a, err := h.Int(rpm.TagFileDigestAlgo)
		if err != nil {
			return nil, fmt.Errorf("package %s: file digest algorithm: %w", p.NEVRA(), err)
		}
		p.DigestAlgo = uint32(a)
	}
	return p, nil
}

// depsOf reads one dependency list (names, flags, versions in parallel).
func depsOf(h *rpm.Header, nameTag, flagsTag, versTag rpm.Tag) ([]Dep, error) {
	names, err := optStrings(h, nameTag)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	flags, err := optInt32s(h, flagsTag)
	if err != nil {
		return nil, err
	}
	vers, err := optStrings(h, versTag)
	if err != nil {
		return nil, err
	}
	out := make([]Dep, len(names))
	for i, n := range names {
		out[i].Name = n
		if i < len(flags) {
			out[i].Flags = rpm.Sense(uint32(flags[i]))
		}
		if i < len(vers) {
			out[i].Version = vers[i]
		}
	}
	return out, nil
}

// optStrings reads a string array tag; a missing tag is empty.
func optStrings(h *rpm.Header, t rpm.Tag) ([]string, error) {
	v, err := h.Strings(t)
	if errors.Is(err, rpm.ErrNoTag) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tag %d: %w", t, err)
	}
	return v, nil
}

// optInt32s reads an int32 array tag; a missing tag is empty.
func optInt32s(h *rpm.Header, t rpm.Tag) ([]int32, error) {
	v, err := h.Int32s(t)
	if errors.Is(err, rpm.ErrNoTag) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tag %d: %w", t, err)
	}
	return v, nil
}

// scriptTags are the scriptlets rpm would run on an upgrade, by name.
var scriptTags = []struct {
	tag  rpm.Tag
	name string
}{
	{rpm.TagPreTrans, "%pretrans"}, {rpm.TagPreIn, "%pre"}, {rpm.TagPostIn, "%post"},
	{rpm.TagPreUn, "%preun"}, {rpm.TagPostUn, "%postun"}, {rpm.TagPostTrans, "%posttrans"},
	{rpm.TagTriggerScripts, "%trigger"}, {rpm.TagFileTriggerScripts, "%filetrigger"},
	{rpm.TagTransFileTriggerScripts, "%transfiletrigger"},
}

// scriptsOf names the scriptlets and triggers a header carries (a
// scriptlet with only an interpreter, such as "<lua>" or /sbin/ldconfig,
// counts).
func scriptsOf(h *rpm.Header) []string {
	var out []string
	prog := map[rpm.Tag]rpm.Tag{rpm.TagPreIn: rpm.TagPreInProg, rpm.TagPostIn: rpm.TagPostInProg,
		rpm.TagPreUn: rpm.TagPreUnProg, rpm.TagPostUn: rpm.TagPostUnProg,
		rpm.TagPreTrans: rpm.TagPreTransProg, rpm.TagPostTrans: rpm.TagPostTransProg}
	for _, s := range scriptTags {
		if h.Has(s.tag) || (prog[s.tag] != 0 && h.Has(prog[s.tag])) {
			out = append(out, s.name)
		}
	}
	return out
}
