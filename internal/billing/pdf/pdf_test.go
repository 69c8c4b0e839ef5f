package pdf

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// tool finds a poppler tool; scripts/setup.sh installs poppler-utils.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: run scripts/setup.sh (installs poppler-utils)", name)
	}
	return p
}

func sampleBill(t *testing.T, covered, missing int) (bill.Bill, customer.Customer) {
	t.Helper()
	c := customer.Synthesize(9, 1, tariff.DefaultID, "m-")[0]
	s, err := tariff.Load(tariff.DefaultID)
	if err != nil {
		t.Fatal(err)
	}
	src := bill.Totals{RuleID: "monthly-bill", FirstRound: 5760, LastRound: 8735, Digest: "9f2c4e01ab77d3c5e8a1",
		Meters: []bill.MeterTotal{{MeterID: c.MeterID, Wh: 243_517, RoundsCovered: covered, RoundsMissing: missing}}}
	b, err := bill.Compose(customer.Mask(&c), s, "2026-03", []bill.Totals{src}, bill.Policy{}, time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return b, c
}

// pdfText extracts the text of a PDF with pdftotext -layout.
func pdfText(t *testing.T, doc []byte) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "bill.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool(t, "pdftotext"), "-layout", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

func TestRenderIssued(t *testing.T) {
	b, c := sampleBill(t, 2700, 276)
	url := "https://pay.example.in/pay?t=eyJiaWxsIjoiS0EtMDAwMDAxLzIwMjYtMDMvcjEiLCJhbW91bnQiOjE5ODcwMCwiZXhwIjoiMjAyNi0wNS0wMlQwOTowMDowMFoifQ.q8wU3XkQ0bq1Yy4C7x6o2k6cQhQ2e0d9s0m2w3l1b5I"
	hist := []Point{{Period: "2025-12", Wh: 210_000}, {Period: "2026-01", Wh: 260_000}, {Period: "2026-02", Wh: 180_000, Estimated: true}}
	doc, err := Render(b, Options{Utility: "BESCOM (demo)", PayURL: url, History: hist})
	if err != nil {
		t.Fatal(err)
	}
	txt := pdfText(t, doc)
	compact := strings.Join(strings.Fields(txt), "")
	m := customer.Mask(&c)
	for _, want := range []string{m.Name, m.Email, m.AccountNumber, m.Address, c.Phone, c.ID, "ESTIMATED", "Energy billed",
		"Rs " + tariff.Rupees(b.TotalPaise), b.DueDate, "Electricity tax 9.00%", "Pension & gratuity surcharge",
		"rule monthly-bill", "2700 covered, 276 missing", "Data sources", "Monthly consumption"} {
		if !strings.Contains(txt, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if !strings.Contains(compact, url) {
		t.Errorf("PDF text lacks the payment link")
	}
	for _, secret := range []string{c.Name, c.Email, c.AccountNumber, c.Address.Street} {
		if strings.Contains(txt, secret) {
			t.Errorf("PDF shows raw PII %q", secret)
		}
	}
	for _, l := range b.Charges.Lines {
		if !strings.Contains(txt, tariff.Rupees(l.AmountPaise)) {
			t.Errorf("PDF lacks charge line %s = %s", l.Label, tariff.Rupees(l.AmountPaise))
		}
	}

	// Render page 1 to PNG: the page must be a real image with content.
	dir := t.TempDir()
	if art := os.Getenv("PPNET_ARTIFACTS"); art != "" {
		if err := os.MkdirAll(art, 0o755); err != nil {
			t.Fatal(err)
		}
		dir = art
		t.Logf("bill.pdf and bill-page1.png in %s", art)
	}
	in := filepath.Join(dir, "bill.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool(t, "pdftoppm"), "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", in, filepath.Join(dir, "bill-page1")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "bill-page1.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w < 600 {
		t.Fatalf("page image %d px wide", w)
	}
	colours := map[[3]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 3 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 12, g >> 12, b >> 12}] = true
		}
	}
	if len(colours) < 4 {
		t.Fatalf("rendered page has %d colours; expected text, chart bars and QR", len(colours))
	}
	// The QR code on the page decodes to the payment link.
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code readable on the rendered page: %v", err)
	}
	if res.GetText() != url {
		t.Fatalf("QR code reads %q, want the payment link %q", res.GetText(), url)
	}
	t.Logf("rendered %s", filepath.Join(dir, "bill-page1.png"))
}

func TestRenderHeld(t *testing.T) {
	b, _ := sampleBill(t, 1000, 1976)
	if b.Status != bill.StatusHeld {
		t.Fatalf("status %s", b.Status)
	}
	doc, err := Render(b, Options{PayURL: "https://pay.example.in/pay?t=x"})
	if err != nil {
		t.Fatal(err)
	}
	txt := pdfText(t, doc)
	if !strings.Contains(txt, "BILL HELD") || !strings.Contains(txt, "below the 75.00% minimum") {
		t.Fatalf("held bill text:\n%s", txt)
	}
	if strings.Contains(txt, "Total amount due") || strings.Contains(txt, "pay.example.in") {
		t.Fatalf("held bill shows an amount or a payment link:\n%s", txt)
	}
}
