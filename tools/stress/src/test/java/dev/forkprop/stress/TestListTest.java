package dev.forkprop.stress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * jcstress exits 0 when it finds no test to run, so a build that lost its generated test list
 * (annotation processing off, see the pom) would pass CI while testing nothing. This checks that
 * the list jcstress runs from names exactly the {@code @JCStressTest} classes in the sources.
 */
class TestListTest {

    @Test
    void generatedListNamesEveryStressTestInTheSources() throws IOException {
        Set<String> declared = new TreeSet<>();
        // The annotation, then (annotations spanning any number of lines) the next class declaration.
        Pattern nested = Pattern.compile("@JCStressTest\\b(?:(?!@JCStressTest\\b).)*?public static class (\\w+)", Pattern.DOTALL);
        try (Stream<Path> files = Files.list(Path.of("src/main/java/dev/forkprop/stress"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.toString().endsWith("Test.java")) continue;
                String outer = f.getFileName().toString().replace(".java", "");
                Matcher m = nested.matcher(Files.readString(f));
                while (m.find()) declared.add("dev.forkprop.stress." + outer + "." + m.group(1));
            }
        }
        Set<String> listed = new TreeSet<>();
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("META-INF/TestList")) {
            assertNotNull(in, "META-INF/TestList missing: jcstress's annotation processor did not run");
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                // Each record starts JCTEST<len>S<test class name of len chars>...
                Matcher m = Pattern.compile("^JCTEST(\\d+)S").matcher(line);
                if (m.find()) listed.add(line.substring(m.end(), m.end() + Integer.parseInt(m.group(1))));
            }
        }
        assertFalse(declared.isEmpty(), "no @JCStressTest found in the sources: the pattern above is stale");
        assertEquals(declared, listed, "tests jcstress would run vs tests in the sources");
    }
}
