package simcli

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is a progress bar on stderr, or nothing when quiet. Its Set is
// safe for concurrent use and never goes backwards.
type progress struct {
	mu   sync.Mutex
	bar  *progressbar.ProgressBar
	last int64
}

func newProgress(w io.Writer, quiet bool, total int64, what string) *progress {
	if quiet {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { io.WriteString(w, "\n") }),
	)}
}

// Set moves the bar to v if v is further than it is.
func (p *progress) Set(v int64) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if v > p.last {
		p.last = v
		p.bar.Set64(v)
	}
}

// Finish completes the bar.
func (p *progress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
