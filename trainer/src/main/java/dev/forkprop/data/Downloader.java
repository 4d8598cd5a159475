package dev.forkprop.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Opens a remote file for {@link Datasets} to fetch. Injectable so that tests never touch the
 * network: they pass {@link #NONE} or a downloader that maps URLs to local files.
 */
@FunctionalInterface
public interface Downloader {

    /**
     * Opens {@code uri} for reading from its first byte; the caller closes the stream.
     *
     * @throws IOException if it cannot be reached or does not exist; the message is shown to the
     *                     user inside a one-line error, so keep it short
     */
    InputStream open(URI uri) throws IOException;

    /** No network: every open fails. */
    Downloader NONE = uri -> {
        throw new IOException("network access is disabled");
    };

    /**
     * {@code http(s)://} through {@link HttpClient} (redirects followed, 30 s to connect, 10 min per
     * file); {@code file:} URIs are opened as local files.
     */
    static Downloader http() {
        HttpClient client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30))
                .build();
        return uri -> {
            if ("file".equals(uri.getScheme())) {
                return Files.newInputStream(Path.of(uri));
            }
            HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET().build();
            HttpResponse<InputStream> response;
            try {
                response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while connecting to " + uri);
            }
            if (response.statusCode() != 200) {
                response.body().close();
                throw new IOException("HTTP " + response.statusCode());
            }
            return response.body();
        };
    }
}
