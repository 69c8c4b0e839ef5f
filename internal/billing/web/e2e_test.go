package web

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium (Debian package chromium, installed by
// scripts/setup.sh) with the project's fixed flag set.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: run scripts/setup.sh (installs the Debian chromium package)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	return ctx
}

// TestBrowserE2E opens the UI in headless Chromium, finds a customer with
// the htmx search, opens their bill, downloads the PDF from the page, pays
// through the payment link, then opens the network page from the
// navigation and checks htmx refreshes it. On the customer page it checks
// the chart of the meter's masked residual history (bars by kind,
// suppressed readings as hatched gaps without a value). Screenshots of the bill and the
// network page are saved as PNG to $PPNET_ARTIFACTS, or else to
// ppnet-artifacts in the system temporary directory (the path is logged).
func TestBrowserE2E(t *testing.T) {
	srv, cs := demo(t)
	ctx := browser(t)
	target := cs[2] // an estimated bill
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(css("#search")),
		chromedp.SendKeys(css("#search"), target.ID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#rows a.customer').length === 1`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("htmx search did not narrow the list to one customer: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#rows a.customer').length`))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(css(`#rows a.customer`)),
		chromedp.WaitVisible(css(`#history-chart`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The customer page charts the meter's residual history: one bar per
	// reading, masked ones marked by kind, suppressed ones as hatched gaps
	// whose tooltip has no value.
	type chart struct {
		Exact, Coarsen, Generalise, Suppress int
		SuppressTitles                       []string
		HatchFill                            string
		Summary                              string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[chart](`(() => {
		const q = c => document.querySelectorAll('#history-chart rect.bar.' + c);
		const sup = [...q('suppress')];
		return {Exact: q('exact').length, Coarsen: q('coarsen').length, Generalise: q('generalise').length, Suppress: sup.length,
			SuppressTitles: sup.map(r => r.querySelector('title').textContent),
			HatchFill: sup.length ? getComputedStyle(sup[0]).fill : '',
			Summary: document.querySelector('#history-summary').textContent};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	exact, coarsened, generalised, suppressed := fakeCounts()
	if got.Exact != exact || got.Coarsen != coarsened || got.Generalise != generalised || got.Suppress != suppressed {
		t.Fatalf("chart bars %+v, want %d exact, %d coarsened, %d generalised, %d suppressed", got, exact, coarsened, generalised, suppressed)
	}
	for _, title := range got.SuppressTitles {
		if !strings.Contains(title, "suppressed") || strings.Contains(title, "Wh") {
			t.Fatalf("suppressed bar's tooltip %q: want the marker and no value", title)
		}
	}
	if !strings.Contains(got.HatchFill, "hatch") {
		t.Fatalf("suppressed bars filled %q, want the hatch pattern", got.HatchFill)
	}
	if !strings.Contains(got.Summary, fmt.Sprintf("%d suppressed", suppressed)) {
		t.Fatalf("history summary %q", got.Summary)
	}
	histShot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveArtifact(t, "billing-ui-customer-history.png", histShot)
	err = chromedp.Do(ctx,
		chromedp.Click(css(`a.bill`)),
		chromedp.WaitVisible(css(`#pdf`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	pageText, err := chromedp.Run(ctx, chromedp.Text(css("main")))
	if err != nil {
		t.Fatal(err)
	}
	type download struct {
		Head, Type, Disposition string
	}
	pdf, err := chromedp.Run(ctx, chromedp.Evaluate[download](
		`fetch(document.querySelector('#pdf').href).then(async r => ({Head: String.fromCharCode(...new Uint8Array((await r.arrayBuffer()).slice(0, 5))),
			Type: r.headers.get('Content-Type'), Disposition: r.headers.get('Content-Disposition')}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("search left %d rows", rows)
	}
	if !strings.Contains(pageText, target.ID+"/2026-03/r1") || !strings.Contains(pageText, "Energy estimated") || !strings.Contains(pageText, "Total, due") {
		t.Fatalf("bill page text:\n%s", pageText)
	}
	for _, secret := range []string{target.Name, target.Email, target.AccountNumber, target.Address.Street} {
		if strings.Contains(pageText, secret) {
			t.Fatalf("bill page shows raw PII %q", secret)
		}
	}
	if pdf.Head != "%PDF-" || pdf.Type != "application/pdf" {
		t.Fatalf("downloaded PDF starts %q, Content-Type %q", pdf.Head, pdf.Type)
	}
	wantName := target.ID + "_2026-03_r1.pdf"
	if _, params, err := mime.ParseMediaType(pdf.Disposition); err != nil || !strings.HasPrefix(pdf.Disposition, "attachment;") || params["filename"] != wantName {
		t.Fatalf("PDF Content-Disposition %q (%v), want an attachment named %s", pdf.Disposition, err, wantName)
	}
	saveArtifact(t, "billing-ui-bill.png", shot)

	err = chromedp.Do(ctx,
		chromedp.Click(css(`#paylink`)),
		chromedp.WaitVisible(css(`#pay`)),
		chromedp.Click(css(`#pay`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(css(`h1#done`))); err != nil {
		t.Fatalf("payment page did not confirm: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/bills/"+target.ID+"/2026-03/r1")); err != nil {
		t.Fatal(err)
	}
	paid, err := chromedp.Run(ctx, chromedp.Text(css("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(paid, "paid") || strings.Contains(paid, "Pay online") {
		t.Fatalf("after payment the bill page reads:\n%s", paid)
	}

	// The network page, reached from the navigation of the bill page: PPN
	// status, peers and channels, refreshed in place by htmx.
	err = chromedp.Do(ctx,
		chromedp.Click(css(`#nav-network`)),
		chromedp.WaitVisible(css(`table.ppns tr.ppn`)),
	)
	if err != nil {
		t.Fatalf("network page from the navigation: %v", err)
	}
	netText, err := chromedp.Run(ctx, chromedp.Text(css("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ppn2", "faulty", "absent", "billing-monthly", "424242", "unreachable: connection refused", "not configured: bills are not notified"} {
		if !strings.Contains(netText, want) {
			t.Fatalf("network page lacks %q:\n%s", want, netText)
		}
	}
	before, err := chromedp.Run(ctx, chromedp.Text(css("#at")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`htmx.trigger('#net', 'refresh')`)); err != nil {
		t.Fatalf("htmx not loaded on the network page: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#at') && document.querySelector('#at').textContent !== `+strconv.Quote(before),
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("htmx did not refresh the network view (still %q): %v", before, err)
	}
	netShot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveArtifact(t, "billing-ui-network.png", netShot)
}

// saveArtifact writes a PNG screenshot to $PPNET_ARTIFACTS, or else to
// ppnet-artifacts in the system temporary directory, and logs the path.
func saveArtifact(t *testing.T, name string, png []byte) {
	t.Helper()
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	dir := os.Getenv("PPNET_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ppnet-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", out, len(png))
}
