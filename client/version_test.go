package client_test

import (
	"regexp"
	"testing"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/version"
)

// TestUserAgentCarriesVersion checks that every request names the SDK's
// version, the one `make release` writes into internal/version, with and
// without a caller's own User-Agent in front of it.
func TestUserAgentCarriesVersion(t *testing.T) {
	t.Parallel()
	if got := client.Version(); got != version.Version {
		t.Fatalf("Version() = %q, want internal/version's %q", got, version.Version)
	}
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(client.Version()) {
		t.Fatalf("Version() = %q, want MAJOR.MINOR.PATCH without a v", client.Version())
	}
	for _, tc := range []struct {
		name string
		opts []client.Option
		want string
	}{
		{"default", nil, "bctrl-go/" + client.Version()},
		{"caller's first", []client.Option{client.WithUserAgent("platform-x/2")}, "platform-x/2 bctrl-go/" + client.Version()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t, serveFixture(t, "running"), tc.opts...)
			if _, err := c.Invocations.Get(t.Context(), "inv-1"); err != nil {
				t.Fatal(err)
			}
			reqs := ts.requests()
			if len(reqs) == 0 {
				t.Fatal("no request reached the server")
			}
			for _, r := range reqs {
				if r.UserAgent != tc.want {
					t.Errorf("User-Agent = %q, want %q", r.UserAgent, tc.want)
				}
			}
		})
	}
}
