#!/usr/bin/env bash
# Make sure a Redis server answers on the configured broker URL (default 127.0.0.1:6379);
# start a throwaway one if nothing does. Only loopback URLs are started here.
set -euo pipefail
url="${CAREPRESS_BROKER_URL:-redis://127.0.0.1:6379/0}"
hostport="${url#redis://}"; hostport="${hostport%%/*}"; hostport="${hostport##*@}"
host="${hostport%%:*}"; port="${hostport##*:}"
[ "$port" = "$hostport" ] && port=6379

if redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG; then
  exit 0
fi
case "$host" in
  127.*|localhost) ;;
  *) echo "ensure-redis: nothing answers at $url and it is not local; start it yourself" >&2
     exit 1 ;;
esac
echo "ensure-redis: starting redis-server on $host:$port" >&2
redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
  --dir /tmp --logfile "/tmp/carepress-redis-$port.log"
for _ in $(seq 50); do
  redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG && exit 0
  sleep 0.1
done
echo "ensure-redis: redis-server did not answer on $host:$port" >&2
exit 1
