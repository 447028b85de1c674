package imagefs

import (
	"archive/tar"
	"fmt"
	"io"
)

// captureLinkSources is the second walk over a layer in which wanted files
// are hard links: it reads the content of their sources, which the tar
// stream stored earlier under another name.
func (lp *layerPass) captureLinkSources(e Entry, body io.Reader) error {
	h := e.Header
	if h.Typeflag != tar.TypeReg {
		return nil
	}
	var data []byte
	for _, l := range lp.links {
		if l.source != e.Path {
			continue
		}
		if h.Size < 0 || h.Size > l.limit {
			return fmt.Errorf("%s: hard link to a file of %d bytes, over the %d byte limit: %w", l.path, h.Size, l.limit, ErrTooLarge)
		}
		if data == nil {
			if err := lp.s.hold(l.path, h.Size); err != nil {
				return err
			}
			var err error
			if data, err = readCapped(body, h.Size, l.limit); err != nil {
				return err
			}
		}
		l.o.content, l.o.hasContent, l.o.size = data, true, h.Size
	}
	return nil
}
