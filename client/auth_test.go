package client_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

func TestEveryRequestIsAuthenticated(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, serveFixture(t, "running"), client.WithUserAgent("platform-x/2"))
	for range 3 {
		if _, err := c.Invocations.Get(t.Context(), "inv-1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range ts.requests() {
		if r.Auth != "Bearer "+testKey {
			t.Errorf("request %s %s: Authorization = %q", r.Method, r.Path, r.Auth)
		}
		if !strings.HasPrefix(r.UserAgent, "platform-x/2 bctrl-go/") {
			t.Errorf("User-Agent = %q", r.UserAgent)
		}
		if r.Path != pathPrefix+"/v1/invocations/inv-1" {
			t.Errorf("path = %q", r.Path)
		}
	}
}

// TestClientPrintsNoKey prints a client every way fmt can reach it,
// including by value inside a user's struct, where fmt prints unexported
// fields by reflection without calling Format.
func TestClientPrintsNoKey(t *testing.T) {
	t.Parallel()
	c, err := client.New(client.WithAPIKey(leakKey), client.WithBaseURL("https://api.bctrl.ai"))
	if err != nil {
		t.Fatal(err)
	}
	type holder struct {
		c   client.Client
		s   client.InvocationsService
		ptr *client.Client
	}
	values := map[string]any{
		"*Client":                     c,
		"Client":                      *c,
		"struct{ c Client } by value": struct{ c client.Client }{*c},
		"struct{ C Client } by value": struct{ C client.Client }{*c},
		"a user's struct":             holder{*c, *c.Invocations, c},
		"*InvocationsService":         c.Invocations,
		"InvocationsService":          *c.Invocations,
		"[]Client":                    []client.Client{*c},
		"map[string]Client":           map[string]client.Client{"c": *c},
		"zero Client":                 client.Client{},
		"option":                      client.WithAPIKey(leakKey),
	}
	var got []seen
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			got = append(got, seen{name + " " + verb, fmt.Sprintf(verb, v)})
		}
	}
	for _, l := range leaks(leakKey, got) {
		t.Errorf("the API key leaked: %s", l)
	}
	if out := fmt.Sprintf("%v", c); !strings.Contains(out, "[redacted]") {
		t.Errorf("%%v of the client = %s, want the key shown as [redacted]", out)
	}
}

func TestRedirectToAnotherHostDropsAuthorization(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var otherAuth []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		otherAuth = append(otherAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		serveJSON(200, spectest.Fixture(t, "queued"))(w, r)
	}))
	t.Cleanup(other.Close)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/v1/invocations/x", http.StatusFound)
	}))
	t.Cleanup(first.Close)
	// The default HTTP client: net/http alone would forward the header,
	// since both servers are 127.0.0.1 on different ports.
	c, err := client.New(client.WithAPIKey(testKey), client.WithBaseURL(first.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invocations.Get(t.Context(), "x"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(otherAuth) != 1 || otherAuth[0] != "" {
		t.Fatalf("the other host saw Authorization %q, want none", otherAuth)
	}
}
