// Package registry is Patchloop's access to OCI registries: listing
// repositories and tags, resolving, reading, pushing and deleting images,
// with Docker-style credentials, plain HTTP for loopback registries and
// bounded retries. It wraps go-containerregistry; every call takes a context.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Client talks to OCI registries. It is safe for concurrent use.
type Client struct {
	puller    *remote.Puller // reuses a transport (and token) per repository
	pusher    *remote.Pusher
	keychain  authn.Keychain
	insecure  bool
	transport http.RoundTripper
	jobs      int
	pageSize  int
	limits    listLimits
	userAgent string
}

// Option configures a Client.
type Option func(*config)

type config struct {
	keychain  authn.Keychain
	insecure  bool
	base      http.RoundTripper
	wrap      func(http.RoundTripper) http.RoundTripper
	retry     RetryPolicy
	jobs      int
	pageSize  int
	maxPages  int
	userAgent string
	// maxPageSize and maxNames are MaxListingPageSize and
	// MaxListingNames; tests lower them.
	maxPageSize int64
	maxNames    int
	log         *slog.Logger
}

// WithKeychain sets where credentials come from (default: the Docker config
// file and its credential helpers, as crane and docker use).
func WithKeychain(k authn.Keychain) Option { return func(c *config) { c.keychain = k } }

// WithInsecure allows plain HTTP and unverified TLS for every registry.
// Loopback registries (localhost, 127.0.0.0/8, ::1) use plain HTTP anyway.
func WithInsecure(insecure bool) Option { return func(c *config) { c.insecure = insecure } }

// WithTransport sets the HTTP transport under the retry layer.
func WithTransport(t http.RoundTripper) Option { return func(c *config) { c.base = t } }

// WithTransportWrapper wraps the HTTP transport (the default one or
// WithTransport's) under the retry layer, so the wrapper sees every attempt:
// for example to count errors.
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(c *config) { c.wrap = wrap }
}

// WithRetry sets the retry policy for 429, 5xx and network errors.
func WithRetry(p RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithJobs sets how many blobs are transferred at once per push (default 4).
func WithJobs(n int) Option { return func(c *config) { c.jobs = n } }

// WithPageSize sets the page size of catalog and tag listings (default 1000).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithMaxPages caps how many pages one catalog or tag listing follows
// (default DefaultMaxPages); a longer listing fails with ErrTooManyPages.
func WithMaxPages(n int) Option { return func(c *config) { c.maxPages = n } }

// WithLogger sets where retries are logged (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// New returns a Client.
func New(opts ...Option) *Client {
	c := config{jobs: 4, pageSize: 1000, maxPages: DefaultMaxPages, maxPageSize: MaxListingPageSize, maxNames: MaxListingNames, userAgent: "patchloop"}
	for _, o := range opts {
		o(&c)
	}
	if c.keychain == nil {
		c.keychain = authn.DefaultKeychain
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.maxPages <= 0 {
		c.maxPages = DefaultMaxPages
	}
	if c.base == nil {
		c.base = defaultTransport(c.insecure)
	}
	if c.wrap != nil {
		c.base = c.wrap(c.base)
	}
	cl := &Client{
		keychain:  c.keychain,
		insecure:  c.insecure,
		transport: redirectLimit{next: &retryTransport{next: listingTransport{next: c.base, limit: c.maxPageSize}, policy: c.retry.withDefaults(), log: c.log}},
		jobs:      c.jobs,
		pageSize:  c.pageSize,
		limits:    listLimits{pages: c.maxPages, names: c.maxNames},
		userAgent: c.userAgent,
	}
	// Neither constructor fails with the options Options builds.
	cl.puller, _ = remote.NewPuller(cl.Options(context.Background())...)
	cl.pusher, _ = remote.NewPusher(cl.Options(context.Background())...)
	return cl
}

func defaultTransport(insecure bool) http.RoundTripper {
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          200,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
	}
	if insecure {
		t.TLSClientConfig = insecureTLS()
	}
	return t
}

// Options returns go-containerregistry options carrying this client's
// credentials, transport and ctx, for packages that use remote directly.
func (c *Client) Options(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(c.keychain),
		remote.WithTransport(c.transport),
		// Retries happen in our transport, which honours Retry-After.
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryStatusCodes(),
		remote.WithJobs(c.jobs),
		remote.WithPageSize(c.pageSize),
		remote.WithUserAgent(c.userAgent),
	}
}

func (c *Client) nameOpts() []name.Option {
	if c.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// ParseReference parses an image reference such as host/repo:tag or
// host/repo@sha256:….
func (c *Client) ParseReference(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref, append(c.nameOpts(), name.StrictValidation)...)
	if err != nil {
		// Accept a bare repository (implicit :latest) as docker does.
		r2, err2 := name.ParseReference(ref, c.nameOpts()...)
		if err2 != nil {
			return nil, fmt.Errorf("image reference %q: %w", ref, err)
		}
		return r2, nil
	}
	return r, nil
}

// Registry parses a registry host such as registry.example.com or
// localhost:5000.
func (c *Client) Registry(host string) (name.Registry, error) {
	r, err := name.NewRegistry(host, append(c.nameOpts(), name.StrictValidation)...)
	if err != nil {
		return name.Registry{}, fmt.Errorf("registry %q: %w", host, err)
	}
	return r, nil
}

// Repository parses host/path into a repository.
func (c *Client) Repository(repo string) (name.Repository, error) {
	r, err := name.NewRepository(repo, append(c.nameOpts(), name.StrictValidation)...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("repository %q: %w", repo, err)
	}
	return r, nil
}

// Catalog lists every repository of a registry, following pagination for
// at most WithMaxPages pages; a registry whose next link points back at a
// page already read gives ErrRepeatedPage.
func (c *Client) Catalog(ctx context.Context, reg name.Registry) ([]string, error) {
	repos, err := c.catalog(ctx, reg)
	if err != nil {
		return nil, fmt.Errorf("list repositories of %s: %w", reg, err)
	}
	return repos, nil
}

func (c *Client) catalog(ctx context.Context, reg name.Registry) ([]string, error) {
	l, err := c.puller.Catalogger(ctx, reg)
	if err != nil {
		return nil, err
	}
	first := listURL(reg.Scheme(), reg.RegistryStr(), "/v2/_catalog", c.pageSize)
	return paginate(ctx, pager[*remote.Catalogs]{
		hasNext: l.HasNext,
		next:    l.Next,
		url:     func(p *remote.Catalogs) string { return p.Next },
		items:   func(p *remote.Catalogs) []string { return p.Repos },
	}, first, "repositories of "+reg.String(), c.limits)
}

// Tags lists every tag of a repository, following pagination for at most
// WithMaxPages pages; a registry whose next link points back at a page
// already read gives ErrRepeatedPage. A repository that does not exist
// gives an error satisfying IsNotFound.
func (c *Client) Tags(ctx context.Context, repo name.Repository) ([]string, error) {
	tags, err := c.tags(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	return tags, nil
}

func (c *Client) tags(ctx context.Context, repo name.Repository) ([]string, error) {
	l, err := c.puller.Lister(ctx, repo)
	if err != nil {
		return nil, err
	}
	first := listURL(repo.Scheme(), repo.RegistryStr(), "/v2/"+repo.RepositoryStr()+"/tags/list", c.pageSize)
	return paginate(ctx, pager[*remote.Tags]{
		hasNext: l.HasNext,
		next:    l.Next,
		url:     func(p *remote.Tags) string { return p.Next },
		items:   func(p *remote.Tags) []string { return p.Tags },
	}, first, "tags of "+repo.String(), c.limits)
}

// listURL is the URL of a listing's first page as go-containerregistry
// builds it, so that a next link pointing back at it is recognised.
func listURL(scheme, host, path string, pageSize int) string {
	u := &url.URL{Scheme: scheme, Host: host, Path: path}
	if pageSize > 0 {
		u.RawQuery = "n=" + strconv.Itoa(pageSize)
	}
	return u.String()
}

// Resolve returns the descriptor (digest, media type, size) a reference
// points at, without downloading the manifest.
func (c *Client) Resolve(ctx context.Context, ref name.Reference) (v1.Descriptor, error) {
	d, err := c.puller.Head(ctx, ref)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("resolve %s: %w", ref, err)
	}
	return *d, nil
}

// Get fetches the manifest a reference points at: an image or an index.
func (c *Client) Get(ctx context.Context, ref name.Reference) (*remote.Descriptor, error) {
	d, err := remote.Get(ref, c.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", ref, err)
	}
	return d, nil
}

// Image returns a lazily fetched image (for an index, the platform given,
// default linux/amd64).
func (c *Client) Image(ctx context.Context, ref name.Reference, platform *v1.Platform) (v1.Image, error) {
	opts := c.Options(ctx)
	if platform != nil {
		opts = append(opts, remote.WithPlatform(*platform))
	}
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", ref, err)
	}
	return img, nil
}

// Push writes an image or index (anything remote.Write or WriteIndex takes)
// under ref. Blobs go first and the manifest last, so a tag never points at
// missing content.
func (c *Client) Push(ctx context.Context, ref name.Reference, t remote.Taggable) error {
	if err := c.pusher.Push(ctx, ref, t); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// Delete removes the manifest ref points at (by digest: deleting a tag's
// manifest removes every tag that points at it).
func (c *Client) Delete(ctx context.Context, ref name.Reference) error {
	if err := c.pusher.Delete(ctx, ref); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	return nil
}
