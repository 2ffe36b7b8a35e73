# escape=`
FROM debian:bookworm-slim@sha256:ad86386827b083b3d71139050b47ffb32bbd9559ea9b1345a739b14fec2d9ecf

# A comment between instructions.
RUN apt-get update `
# a comment inside the continuation is dropped

    && apt-get install -y --no-install-recommends `
       curl `
    && rm -rf /var/lib/apt/lists/*
RUN echo C:\path\with\backslashes\
USER app
HEALTHCHECK NONE
