# Images of octane-report. Every image holds the same static binary at
# /usr/local/bin/octane-report, plus the symlink octane-report-record-start
# that the GitHub action's pre-entrypoint runs: the binary records the start
# time when it is started under that name.
#
# Targets:
#   action           (last stage, built by default) the GitHub Docker action and
#                    the Drone and Woodpecker plugin, built from source. This is
#                    what a runner builds when action.yml says `image: Dockerfile`.
#   action-prebuilt  the same image from a binary already built, see below.
#   gitlab           a GitLab CI job image, built from source.
#   gitlab-prebuilt  the same image from a binary already built.
#   gitlab-local     gitlab-prebuilt on a busybox taken from the build context.
#
# The *-prebuilt targets take the binary from the build context at
# dist/linux-<TARGETARCH>/, a folder that holds octane-report and the symlink
# octane-report-record-start. The release workflow builds the binaries once per
# architecture and publishes both the plain binaries and these images from them.
#
# Each stage names its source stage literally rather than through an ARG in
# FROM, because Buildah (Podman 4.3) does not resolve a stage name given by an
# ARG, so the same file builds with BuildKit and with Podman.

# Build from source on Alpine, whose native Rust target is musl: the result is
# static and runs on scratch.
FROM docker.io/library/rust:1.95-alpine AS build
# ring compiles C and assembly, which needs the musl headers.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN target="$(uname -m)-unknown-linux-musl" \
 && cargo build --release --locked --target "$target" \
 && mkdir -p /out/bin \
 && cp "target/$target/release/octane-report" /out/bin/octane-report \
 && ln -s octane-report /out/bin/octane-report-record-start

# Binary built outside the image. BuildKit sets TARGETARCH by itself; Podman 4.3
# needs --build-arg TARGETARCH=amd64.
FROM scratch AS prebuilt
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/ /out/bin/

# A shell for GitLab images on a machine without registry access: Debian's
# busybox-static (a static busybox, like the official image's) copied from the
# build context to dist/busybox. Only the local checks use it; the published
# gitlab image starts from the official busybox image instead.
FROM scratch AS busybox-local
COPY dist/busybox /bin/busybox
# The official busybox image also has a /tmp for job scripts.
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -m 1777 /tmp"]
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["sh"]

# GitLab's Docker executor does not replace the image's entrypoint: it starts
# the image with `sh` and feeds the job script on standard input, so a GitLab
# image needs a shell (and grep) and no entrypoint. Busybox gives both in about
# 1.5 MB.
FROM docker.io/library/busybox:1.37-musl AS gitlab
COPY --from=build /out/bin/ /usr/local/bin/

FROM docker.io/library/busybox:1.37-musl AS gitlab-prebuilt
COPY --from=prebuilt /out/bin/ /usr/local/bin/

FROM busybox-local AS gitlab-local
COPY --from=prebuilt /out/bin/ /usr/local/bin/

# The action and plugin image holds the binary alone. It runs as root because
# GitHub's runner mounts the workspace and the file-command files owned by the
# runner's user, and a container without root cannot write to them.
FROM scratch AS action-prebuilt
COPY --from=prebuilt /out/bin/ /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/octane-report"]

FROM scratch AS action
COPY --from=build /out/bin/ /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/octane-report"]
