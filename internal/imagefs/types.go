package imagefs

import (
	"errors"
	"io/fs"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultMaxFileSize caps the content of one wanted file when Request does
// not set its own cap. A bigger wanted file is an error, not a truncation.
const DefaultMaxFileSize int64 = 256 << 20

// DefaultMaxTotalSize caps the content of all wanted files one Resolve
// holds together when Request does not set its own cap.
const DefaultMaxTotalSize int64 = 2 * DefaultMaxFileSize

// ErrTooLarge is matched (errors.Is) by the errors for a wanted file over its
// cap and for wanted files over MaxTotalSize together.
var ErrTooLarge = errors.New("image file over Patchloop's size cap")

// Kind says what a path is in the final filesystem.
type Kind uint8

// Kinds of nodes.
const (
	// KindUnknown: reading stopped (Request.Enough) before the path was
	// settled; lower layers might still hold it.
	KindUnknown Kind = iota
	// KindAbsent: the path does not exist (never created, or whited out).
	KindAbsent
	// KindRegular is a regular file (hard links are reported as regular files).
	KindRegular
	// KindDir is a directory.
	KindDir
	// KindSymlink is a symbolic link.
	KindSymlink
	// KindOther is a device, FIFO or other special file.
	KindOther
)

// String returns a lower-case name for the kind.
func (k Kind) String() string {
	switch k {
	case KindAbsent:
		return "absent"
	case KindRegular:
		return "regular"
	case KindDir:
		return "dir"
	case KindSymlink:
		return "symlink"
	case KindOther:
		return "other"
	default:
		return "unknown"
	}
}

// Layer identifies one layer of an image.
type Layer struct {
	// Index is the layer's position in the image, 0 being the bottom layer.
	Index int `json:"index"`
	// Digest is the digest of the layer blob as stored (usually compressed).
	Digest v1.Hash `json:"digest"`
	// DiffID is the digest of the uncompressed tar.
	DiffID v1.Hash `json:"diffID"`
}

// String names the layer the way error messages do: "layer sha256:ab12cd34ef56".
func (l Layer) String() string {
	h := l.Digest.Hex
	if len(h) > 12 {
		h = h[:12]
	}
	if l.Digest.Algorithm == "" {
		return "layer #" + strconv.Itoa(l.Index)
	}
	return "layer " + l.Digest.Algorithm + ":" + h
}

// Node describes one path of the final filesystem.
type Node struct {
	// Path is the path asked about (cleaned), or for a glob the matching
	// entry inside the glob's directory.
	Path string
	// RealPath is the literal path holding the node once symlinks are
	// followed: in parent directories always, at the last element for Files
	// and Globs only. It is empty when Kind is KindUnknown.
	RealPath string
	// Kind is what the path is; KindAbsent and KindUnknown carry nothing else.
	Kind Kind
	// Target is the link target as stored in the image (KindSymlink only).
	Target string
	// Mode holds the permission and type bits from the tar header.
	Mode fs.FileMode
	// Size is the file size from the tar header.
	Size int64
	// Layer is the layer the node comes from.
	Layer Layer
	// Content is the file content (Files and Globs, KindRegular only).
	Content []byte
}

// Request lists the paths to resolve. Paths are relative to the image root
// (a leading "/" is ignored) and must not climb out of it.
type Request struct {
	// Files are paths whose content is wanted. Symlinks are followed, in
	// the parent directories and at the last element.
	Files []string
	// Globs are "dir/*" patterns: the content of every non-directory entry
	// directly inside dir (symlinks followed) is wanted.
	Globs []string
	// Stat are paths whose kind is wanted. Parent directories are followed
	// through symlinks; the last element is not.
	Stat []string
	// MaxFileSize caps the size of any wanted file; 0 means
	// DefaultMaxFileSize. A bigger file is an error, found from its tar
	// header before any of it is read.
	MaxFileSize int64
	// MaxFileSizes sets the cap of particular Files paths and Globs
	// patterns (keys as given in Files and Globs), overriding MaxFileSize.
	// A file reached through symlinks from several keys gets the largest.
	MaxFileSizes map[string]int64
	// MaxTotalSize caps the content of all wanted files held at once,
	// across layers; 0 means DefaultMaxTotalSize. Content that an upper
	// layer already hides is not read.
	MaxTotalSize int64
	// Enough, when set, is called before each further layer would be read
	// with the answers so far (unsettled paths have KindUnknown). Returning
	// true stops reading; the Result is then marked incomplete.
	Enough func(*Result) bool
}

// Result holds the answers to a Request.
type Result struct {
	// Files maps each Request.Files path, as given, to its node.
	Files map[string]Node
	// Globs maps each Request.Globs pattern, as given, to the files it
	// matched, sorted by path.
	Globs map[string][]Node
	// Stats maps each Request.Stat path, as given, to its node.
	Stats map[string]Node
	// Complete is false when Request.Enough stopped the reading early.
	Complete bool
	// LayersRead lists the layers that were opened, top layer first.
	LayersRead []Layer
	// BytesRead counts the uncompressed tar bytes read.
	BytesRead int64

	unsettled map[string]bool
}

// Settled reports whether the answer for a requested path or glob (as given
// in the Request) is final. Everything is settled when Complete is true.
func (r *Result) Settled(key string) bool { return !r.unsettled[key] }
