package sandboxtest_test

import (
	"testing"

	"github.com/apsandbox/apsandbox/sandbox/sandboxtest"
)

// BenchmarkNew measures what a test pays for its own sandbox: start on a
// loopback port, answer /readyz, stop. The target (issue 4) is under
// 50 ms per sandbox, reported as ms/new.
func BenchmarkNew(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []sandboxtest.Option
	}{
		{"default", nil},
		{"workspace", []sandboxtest.Option{sandboxtest.WithWorkspace("bench")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				sb, err := sandboxtest.Start(bc.opts...)
				if err != nil {
					b.Fatal(err)
				}
				if err := sb.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/new")
		})
	}
}
