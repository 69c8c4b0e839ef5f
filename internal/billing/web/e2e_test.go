package web

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
// through the payment link, and saves a screenshot of the bill page
// as PNG (to $PPNET_ARTIFACTS when set).
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
		chromedp.WaitVisible(css(`a.bill`)),
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
	pdfHead, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(document.querySelector('#pdf').href).then(r => r.arrayBuffer()).then(b => String.fromCharCode(...new Uint8Array(b.slice(0, 5))))`,
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
	if pdfHead != "%PDF-" {
		t.Fatalf("downloaded PDF starts %q", pdfHead)
	}
	dir := t.TempDir()
	if art := os.Getenv("PPNET_ARTIFACTS"); art != "" {
		dir = art
	}
	if !bytes.HasPrefix(shot, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG")
	}
	out := filepath.Join(dir, "billing-ui-bill.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", out, len(shot))

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
}
