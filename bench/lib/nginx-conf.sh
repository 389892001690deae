# shellcheck shell=bash
# nginx configs: the HTTPS peer (mutual TLS, the anchor harness' settings) and the upstream both
# proxies forward to. Same TLS policy as trunkgate ($TLS12_CIPHERS / $TLS13_SUITES from the
# lib/harness.sh). Differences from the team's anchor harness, both for the idle-connection memory test:
# worker_connections 32768 (2 workers x 8192 could refuse part of 10k connections when accepts
# land unevenly) and client_header_timeout 300s (nginx closes a connection that sends no request
# within 60 s by default; trunkgate's config gets the same 300 s).

nginx_common() { # dir
  mkdir -p "$1/tmp"
  cat <<EOF
pid $1/nginx.pid;
error_log $1/error.log warn;
daemon off;
master_process on;
user root;
worker_rlimit_nofile 65536;
EOF
}
nginx_temp_paths() { local t; for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $1/tmp/$t;"; done; }

nginx_write_upstream() { # dir
  local d=$1; mkdir -p "$d"
  { nginx_common "$d"; cat <<EOF
worker_processes 1;
events { worker_connections 8192; }
http {
  access_log off;
$(nginx_temp_paths "$d")
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$UPSTREAM_PORT reuseport backlog=4096;
    location / { default_type text/plain; return 200 "ok\n"; }
  }
}
EOF
  } >"$d/nginx.conf"
  nginx -t -p "$d" -c "$d/nginx.conf" >"$d/test.log" 2>&1 || { cat "$d/test.log"; die "upstream nginx config invalid"; }
}

nginx_write_proxy() { # dir
  local d=$1; mkdir -p "$d"
  { nginx_common "$d"; cat <<EOF
worker_processes ${NGINX_WORKERS:-auto};
events { worker_connections 32768; }
http {
  access_log off;
$(nginx_temp_paths "$d")
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_header_timeout 300s;
  upstream backend { server 127.0.0.1:$UPSTREAM_PORT; keepalive 128; }

  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers $TLS12_CIPHERS;
  ssl_prefer_server_ciphers on;
  ssl_conf_command Ciphersuites $TLS13_SUITES;
  ssl_verify_client on;
  ssl_client_certificate $PKI_DIR/ca.crt;
  ssl_verify_depth 2;

  server {
    listen 127.0.0.1:$NGINX_PORT ssl backlog=4096;
    ssl_certificate     $PKI_DIR/server-ec.crt;
    ssl_certificate_key $PKI_DIR/server-ec.key;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Client-Cert-DN \$ssl_client_s_dn;
    }
  }
}
EOF
  } >"$d/nginx.conf"
  nginx -t -p "$d" -c "$d/nginx.conf" >"$d/test.log" 2>&1 || { cat "$d/test.log"; die "nginx proxy config invalid"; }
}
