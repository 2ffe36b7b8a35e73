FROM alpine:3.20@sha256:beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d
RUN <<EOF
set -eux
apk add curl
curl -fsSL https://install.example.com/setup.sh | bash
EOF
COPY <<-CONF /etc/app.conf
	user=app
	CONF
RUN adduser -D app
USER app
HEALTHCHECK CMD wget -qO- http://localhost:8080/ || exit 1
