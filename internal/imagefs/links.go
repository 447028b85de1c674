package imagefs

import (
	"archive/tar"
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
		if data == nil {
			var err error
			if data, err = readCapped(body, h.Size, lp.s.maxSize); err != nil {
				return err
			}
		}
		l.o.content, l.o.hasContent, l.o.size = data, true, h.Size
	}
	return nil
}
