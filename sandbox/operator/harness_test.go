package operator

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestMain(m *testing.M) {
	// gin prints every route in debug mode.
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// harness is the operator API on a gin engine, with a fake platform and a
// response validator.
type harness struct {
	t      *testing.T
	fake   *fakePlatform
	engine *gin.Engine
	rv     *ResponseValidator
	logs   *bytes.Buffer
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	f := newFake()
	h := newHarnessFor(t, f, opts...)
	h.fake = f
	return h
}

// newHarnessFor serves p (fake is then nil).
func newHarnessFor(t *testing.T, p Platform, opts ...Option) *harness {
	t.Helper()
	rv, err := NewResponseValidator()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, engine: gin.New(), rv: rv, logs: &bytes.Buffer{}}
	h.engine.HandleMethodNotAllowed = true
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(h.logs, nil))), WithScenarios(&fakeRuns{})}, opts...)
	New(p, opts...).Register(h.engine)
	return h
}

// do sends a request (a JSON body when body is not empty) and checks the
// answer against openapi.yaml.
func (h *harness) do(method, path, body string) (int, http.Header, []byte) {
	h.t.Helper()
	return h.doType(method, path, "application/json", body)
}

// doType sends a body of the given media type.
func (h *harness) doType(method, path, contentType, body string) (int, http.Header, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.engine.ServeHTTP(w, req)
	raw := w.Body.Bytes()
	if err := h.rv.Validate(req, w.Code, w.Header(), raw); err != nil {
		h.t.Errorf("%s %s %s: the answer does not match openapi.yaml: %v\n%s", method, path, body, err, raw)
	}
	return w.Code, w.Header(), raw
}
