package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Every command's --help renders without picocli warnings: picocli formats each description with
 * String.format, so a bare '%' (write "%%") makes it print "picocli WARN: Could not format ..." on
 * stderr and show the raw text.
 */
class HelpTextTest {

    @Test
    void everyHelpRendersWithoutFormatWarnings() {
        for (String[] args : new String[][] {{"--help"}, {"train", "--help"}, {"eval", "--help"}, {"predict", "--help"}, {"export", "--help"}}) {
            PrintStream oldOut = System.out, oldErr = System.err;
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            int code;
            try {
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
                code = Main.execute(args);
            } finally {
                System.setOut(oldOut);
                System.setErr(oldErr);
            }
            String all = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
            assertEquals(0, code, String.join(" ", args) + ": " + all);
            assertTrue(all.contains("Usage:"), all);
            assertFalse(all.contains("picocli WARN"), String.join(" ", args) + ": " + all);
        }
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            Main.execute("train", "--help");
        } finally {
            System.setOut(oldOut);
        }
        String help = out.toString(StandardCharsets.UTF_8);
        assertTrue(help.contains("10%") && !help.contains("10%%"), "'%%' prints as '%': " + help);
    }
}
