package rpmdb

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/patchloop/patchloop/internal/rpm"
)

// Index is one of rpm's secondary indexes: a table (SQLite) or an index
// database key space (NDB) mapping a key to (package, element) pairs.
type Index struct {
	Tag  rpm.Tag
	Name string // the table name: rpm's tag name as rpmTagGetName spells it
	Text bool   // keys are strings (TEXT columns in SQLite)
}

// Indexes are the indexes rpm 4.16 and later keep, in rpm's order (its
// dbiTags).
var Indexes = []Index{
	{rpm.TagName, "Name", true},
	{rpm.TagBasenames, "Basenames", true},
	{rpm.TagGroup, "Group", true},
	{rpm.TagRequireName, "Requirename", true},
	{rpm.TagProvideName, "Providename", true},
	{rpm.TagConflictName, "Conflictname", true},
	{rpm.TagObsoleteName, "Obsoletename", true},
	{rpm.TagTriggerName, "Triggername", true},
	{rpm.TagDirnames, "Dirnames", true},
	{rpm.TagInstallTID, "Installtid", false},
	{rpm.TagSigMD5, "Sigmd5", false},
	{rpm.TagSHA1Header, "Sha1header", true},
	{rpm.TagFileTriggerName, "Filetriggername", true},
	{rpm.TagTransFileTriggerName, "Transfiletriggername", true},
	{rpm.TagRecommendName, "Recommendname", true},
	{rpm.TagSuggestName, "Suggestname", true},
	{rpm.TagSupplementName, "Supplementname", true},
	{rpm.TagEnhanceName, "Enhancename", true},
}

// Key is one index entry of a package: its key and the element number
// (rpm's tagNum: the position in the tag's array, or the trigger index for
// file triggers).
type Key struct {
	Key []byte
	Idx uint32
}

// Dependency flags rpm tests to leave install-only requirements out of the
// Requirename index (rpm's isTransientReq).
const (
	senseRPMLIB       = 1 << 24
	senseKeyring      = 1 << 26
	senseMeta         = 1 << 29
	sensePreReq       = 1 << 6
	sensePreTrans     = 1 << 7
	sensePostTrans    = 1 << 5
	senseScriptPre    = 1 << 9
	senseScriptPost   = 1 << 10
	senseScriptPreUn  = 1 << 11
	senseScriptPostUn = 1 << 12
	sensePreUnTrans   = 1 << 20
	sensePostUnTrans  = 1 << 21

	installOnly = senseScriptPre | senseScriptPost | senseRPMLIB | senseKeyring | sensePreTrans | sensePostTrans
	eraseOnly   = senseScriptPreUn | senseScriptPostUn | sensePreUnTrans | sensePostUnTrans
)

func isTransientReq(flags uint32) bool {
	return flags&installOnly != 0 && flags&eraseOnly == 0 && flags&senseMeta == 0
}

// richIndexed are the dependency indexes whose rich dependencies rpm also
// indexes by the names inside them.
var richIndexed = map[rpm.Tag]bool{
	rpm.TagRequireName: true, rpm.TagConflictName: true, rpm.TagSuggestName: true,
	rpm.TagSupplementName: true, rpm.TagRecommendName: true, rpm.TagEnhanceName: true,
}

// Keys returns the entries rpm puts in index ix for header h (rpm's
// tag2index), in rpm's order. order is the byte order of the host rpm ran
// on, for integer keys (Installtid).
func Keys(h *rpm.Header, ix Index, order binary.ByteOrder) []Key {
	e, ok := h.Get(ix.Tag)
	if !ok || e.Count == 0 {
		if ix.Tag != rpm.TagGroup {
			return nil
		}
		return []Key{{Key: []byte("Unknown"), Idx: 0}} // rpm's legacy default
	}
	var out []Key
	switch e.Type {
	case rpm.TypeString, rpm.TypeI18NString, rpm.TypeStringArray:
		vals, err := h.Strings(ix.Tag)
		if err != nil {
			return nil
		}
		if e.Type != rpm.TypeStringArray {
			vals = vals[:1] // rpm reads one string (the C locale's for i18n)
		}
		var flags []int32
		var trigIdx []int32
		switch ix.Tag {
		case rpm.TagRequireName:
			flags, _ = h.Int32s(rpm.TagRequireFlags)
		case rpm.TagFileTriggerName:
			trigIdx, _ = h.Int32s(rpm.TagFileTriggerIndex)
		case rpm.TagTransFileTriggerName:
			trigIdx, _ = h.Int32s(rpm.TagTransFileTriggerIndex)
		}
		fileTrigger := ix.Tag == rpm.TagFileTriggerName || ix.Tag == rpm.TagTransFileTriggerName
		for i, v := range vals {
			idx := uint32(i)
			if fileTrigger {
				if i >= len(trigIdx) {
					break // rpm would read past its index array; stop instead
				}
				idx = uint32(trigIdx[i])
			}
			if ix.Tag == rpm.TagRequireName && i < len(flags) && isTransientReq(uint32(flags[i])) {
				continue
			}
			if ix.Tag == rpm.TagTriggerName && slices.Contains(vals[:i], v) {
				continue
			}
			out = append(out, Key{Key: []byte(v), Idx: idx})
			if strings.HasPrefix(v, "(") && richIndexed[ix.Tag] && e.Type == rpm.TypeStringArray {
				for _, n := range richNames(v) {
					out = append(out, Key{Key: []byte(n), Idx: idx})
				}
			}
		}
	case rpm.TypeBin:
		out = append(out, Key{Key: append([]byte(nil), e.Data...), Idx: 0})
	case rpm.TypeChar, rpm.TypeInt8:
		for i := range e.Data {
			out = append(out, Key{Key: []byte{e.Data[i]}, Idx: uint32(i)})
		}
	case rpm.TypeInt16:
		for i := 0; i+2 <= len(e.Data); i += 2 {
			k := make([]byte, 2)
			order.PutUint16(k, binary.BigEndian.Uint16(e.Data[i:]))
			out = append(out, Key{Key: k, Idx: uint32(i / 2)})
		}
	case rpm.TypeInt32:
		for i := 0; i+4 <= len(e.Data); i += 4 {
			k := make([]byte, 4)
			order.PutUint32(k, binary.BigEndian.Uint32(e.Data[i:]))
			out = append(out, Key{Key: k, Idx: uint32(i / 4)})
		}
	case rpm.TypeInt64:
		for i := 0; i+8 <= len(e.Data); i += 8 {
			k := make([]byte, 8)
			order.PutUint64(k, binary.BigEndian.Uint64(e.Data[i:]))
			out = append(out, Key{Key: k, Idx: uint32(i / 8)})
		}
	}
	return out
}
