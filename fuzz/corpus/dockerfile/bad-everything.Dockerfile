FROM ubuntu
MAINTAINER ops@example.com
ARG NPM_TOKEN
ENV DB_PASSWORD=hunter2-prod \
    DB_PASSWORD_FILE=/run/secrets/db \
    API_KEY=changeme
RUN apt-get update && apt-get install -y curl git
RUN curl -fsSL https://get.example.sh | sh
RUN sudo apt-get install -y --no-install-recommends vim && rm -rf /var/lib/apt/lists/*
RUN pip install -r requirements.txt
ADD app.py /app/
ADD https://example.com/tool.tar.gz /opt/
EXPOSE 22 8080 6379/tcp
COPY . /app
USER root
CMD ["python", "/app/app.py"]
