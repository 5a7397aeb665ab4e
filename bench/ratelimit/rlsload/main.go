// rlsload: a load generator for Envoy's rate-limit service API
// (envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit), used by bench/ratelimit for
// Frontdesk's ratelimit companion and envoyproxy/ratelimit alike: the same request (one
// descriptor, the entries given), -c calls in flight over one HTTP/2 connection, for -d or
// until -n calls. Prints one JSON line: calls, OK, OVER_LIMIT, errors, decisions/s, p50/p99 ms.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	rlcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rls "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	target := flag.String("target", "127.0.0.1:18002", "host:port of the rate-limit service")
	domain := flag.String("domain", "frontdesk", "the request's domain")
	entries := flag.String("entries", "", "the descriptor's entries: key=value,key=value")
	concurrency := flag.Int("c", 50, "calls in flight")
	total := flag.Int64("n", 0, "stop after this many calls (0: run for -d)")
	duration := flag.Duration("d", 5*time.Second, "how long to run (the bound when -n is set too)")
	flag.Parse()

	desc := &rlcommon.RateLimitDescriptor{}
	for _, kv := range strings.Split(*entries, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "rlsload: bad entry %q (want key=value)\n", kv)
			os.Exit(2)
		}
		desc.Entries = append(desc.Entries, &rlcommon.RateLimitDescriptor_Entry{Key: k, Value: v})
	}
	req := &rls.RateLimitRequest{Domain: *domain, Descriptors: []*rlcommon.RateLimitDescriptor{desc}}

	conn, err := grpc.NewClient(*target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(os.Stderr, "rlsload: %v\n", err)
		os.Exit(1)
	}
	defer conn.Close()
	client := rls.NewRateLimitServiceClient(conn)

	var started, ok, over, failed atomic.Int64
	deadline := time.Now().Add(*duration)
	latencies := make([][]time.Duration, *concurrency)
	var wg sync.WaitGroup
	begin := time.Now()
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if *total > 0 && started.Add(1) > *total {
					return
				}
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				res, err := client.ShouldRateLimit(ctx, req)
				cancel()
				latencies[w] = append(latencies[w], time.Since(t0))
				switch {
				case err != nil:
					failed.Add(1)
				case res.OverallCode == rls.RateLimitResponse_OK:
					ok.Add(1)
				case res.OverallCode == rls.RateLimitResponse_OVER_LIMIT:
					over.Add(1)
				default:
					failed.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(begin).Seconds()
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(float64(len(all))*p/100+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(all) {
			i = len(all) - 1
		}
		return float64(all[i].Microseconds()) / 1000
	}
	calls := ok.Load() + over.Load() + failed.Load()
	out, _ := json.Marshal(map[string]any{
		"calls": calls, "ok": ok.Load(), "over_limit": over.Load(), "errors": failed.Load(),
		"seconds": elapsed, "decisions_per_s": float64(calls) / elapsed, "p50_ms": pct(50), "p99_ms": pct(99),
	})
	fmt.Println(string(out))
}
