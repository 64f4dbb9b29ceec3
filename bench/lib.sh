# Shared by the bench scripts (sourced, not run).

# wait_for_otto PID PORT LOG [TRIES]: waits until the `otto serve` process PID
# answers a turn of the demo assistant on PORT (OTTO_ACCOUNT_SID and
# OTTO_AUTH_TOKEN set), every half second, TRIES times (default 120); exits
# with its log if it ends or never answers.
wait_for_otto() {
    local pid="$1" port="$2" log="$3" tries="${4:-120}"
    for _ in $(seq 1 "$tries"); do
        # Another server left on the port would answer for it: check ours runs.
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "otto on port $port exited; its log:" >&2
            cat "$log" >&2
            exit 1
        fi
        if curl -sf -u "$OTTO_ACCOUNT_SID:$OTTO_AUTH_TOKEN" \
            "http://127.0.0.1:$port/v2/$OTTO_ACCOUNT_SID/otto-demo/custom/ready" \
            -d UserId=ready -d Text=hello >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    echo "otto on port $port did not start; its log:" >&2
    cat "$log" >&2
    exit 1
}
