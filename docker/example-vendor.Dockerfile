# The reference vendor service, for demos (docker/compose.yaml) and for
# tests that want the vendor in a container too. Built by `make docker`
# from the same staged context as the sandbox.
FROM scratch

ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="apsandbox-example-vendor" \
      org.opencontainers.image.description="apsandbox's reference vendor service: every ActivePlatform endpoint, in memory, with switchable faults" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/apsandbox/apsandbox"

COPY --chown=65532:65532 tmp /tmp
COPY example-vendor /example-vendor

USER 65532:65532
ENV EXAMPLE_VENDOR_ADDR=:9090
EXPOSE 9090
HEALTHCHECK --interval=5s --timeout=3s --start-period=1s --retries=3 CMD ["/example-vendor", "--healthcheck"]
ENTRYPOINT ["/example-vendor"]
