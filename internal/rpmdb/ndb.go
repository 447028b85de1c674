package rpmdb

import (
	"context"
	"errors"
)

func openNDB(ctx context.Context, dir string) (backend, error) {
	return nil, errors.New("rpmdb: NDB writing is not implemented yet")
}
