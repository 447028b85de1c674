package registry

// WithMaxListingPageSize lowers the cap on a listing page's body, so that
// tests need not send 128 MiB.
func WithMaxListingPageSize(n int64) Option { return func(c *config) { c.maxPageSize = n } }

// WithMaxListingNames lowers the cap on the names of one listing.
func WithMaxListingNames(n int) Option { return func(c *config) { c.maxNames = n } }
