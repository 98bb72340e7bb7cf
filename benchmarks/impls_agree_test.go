package benchmarks

import (
	"fmt"
	"testing"

	"github.com/bctrlhq/sdk-go/internal/spectest"
)

// TestImplsAgree runs every impl once on each body BenchmarkGet fetches,
// and on bodies of only successes and only failures, and checks that each
// saw the body's number of successes and failures, and that all those
// that read the steps computed the same checksum of the fields they read.
// So the comparison is honest: every impl really fetches with the key,
// decodes every step and tells the variants apart.
func TestImplsAgree(t *testing.T) {
	t.Parallel()
	type body struct{ steps, failEvery int }
	bodies := []body{{10, 0}, {10, 1}}
	for _, n := range sizes {
		bodies = append(bodies, body{n, failEvery})
	}
	for _, bd := range bodies {
		t.Run(fmt.Sprintf("steps=%d/failEvery=%d", bd.steps, bd.failEvery), func(t *testing.T) {
			t.Parallel()
			data := spectest.Steps(bd.steps, bd.failEvery)
			want := wantCounts(bd.steps, bd.failEvery)
			srv := serve(t, data)
			var sum int
			for _, im := range impls {
				got, err := im.newGetter(t, srv.URL)(t.Context())
				if err != nil {
					t.Fatalf("%s: %v", im.name, err)
				}
				if err := im.check(got, want); err != nil {
					t.Fatal(err)
				}
				switch {
				case !im.readsSteps:
					if got.sum != len(data) {
						t.Errorf("%s read %d bytes, want %d", im.name, got.sum, len(data))
					}
				case sum == 0:
					sum = got.sum
				case got.sum != sum:
					t.Errorf("%s: checksum %d, want %d as the impls before it", im.name, got.sum, sum)
				}
			}
		})
	}
}

// TestServerRequiresKey checks that the benchmark's server refuses a
// request without the key, so that TestImplsAgree proves each impl sends
// it.
func TestServerRequiresKey(t *testing.T) {
	t.Parallel()
	srv := serve(t, spectest.Steps(1, 0))
	resp, err := srv.Client().Get(srv.URL + "/v1/invocations/" + benchID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("status %d without a key, want 401", resp.StatusCode)
	}
}
