package client_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/bctrlhq/sdk-go/client"
	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// cannedDoer answers every request with body, without a network: what is
// left of a Get is the SDK's own layer (request, auth, retry wrapper,
// record, decode).
type cannedDoer struct{ body []byte }

func (d cannedDoer) Do(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(d.body)), ContentLength: int64(len(d.body)), Request: req}, nil
}

// BenchmarkOverhead is the per-call cost of the SDK's layer on a one-step
// invocation, with the network taken out (make bench-client runs it).
func BenchmarkOverhead(b *testing.B) {
	body := spectest.Steps(1, 7)
	var own struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &own)
	c, err := client.New(client.WithAPIKey("bench-key-12345"), client.WithBaseURL("http://127.0.0.1:1"), client.WithHTTPClient(cannedDoer{body}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Invocations.Get(b.Context(), own.ID); err != nil {
			b.Fatal(err)
		}
	}
}
