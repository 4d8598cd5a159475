package dev.forkprop.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Messages and the progress bar on a fake terminal: the bytes written are replayed on a virtual
 * screen (carriage return, erase to end of line, newline; colour codes take no room), and every
 * message must end up on a line of its own, the bar on the last line.
 */
class StatusLineStreamTest {

    /** What a terminal shows for {@code bytes}: its lines, the last one being where the cursor is. */
    static List<String> screen(String bytes) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        int col = 0;
        for (int i = 0; i < bytes.length(); i++) {
            char c = bytes.charAt(i);
            if (c == '\r') {
                col = 0;
            } else if (c == '\n') {
                lines.add(line.toString());
                line.setLength(0);
                col = 0;
            } else if (c == '\033' && i + 1 < bytes.length() && bytes.charAt(i + 1) == '[') {
                int j = i + 2;
                while (j < bytes.length() && !Character.isLetter(bytes.charAt(j))) j++;
                if (j < bytes.length() && bytes.charAt(j) == 'K') line.setLength(col); // erase to end of line
                i = j; // other sequences (colours) take no room
            } else {
                if (col < line.length()) line.setCharAt(col, c);
                else line.append(c);
                col++;
            }
        }
        lines.add(line.toString());
        return lines;
    }

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final StatusLineStream out = new StatusLineStream(new PrintStream(bytes, true, StandardCharsets.UTF_8));

    private List<String> screen() {
        out.flush();
        return screen(bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aMessageGetsItsOwnLineAboveTheBar() {
        out.status("[=====     ] 50% loss 0.2500");
        out.printf("forkprop: checkpoint %s written%n", "ckpt-000100.safetensors"); // printf writes in pieces
        assertEquals(List.of("forkprop: checkpoint ckpt-000100.safetensors written", "[=====     ] 50% loss 0.2500"), screen());
        out.status("[==========] 100% loss 0.1250");
        out.println("forkprop: second message");
        out.finishStatus();
        assertEquals(List.of("forkprop: checkpoint ckpt-000100.safetensors written", "forkprop: second message",
                "[==========] 100% loss 0.1250", ""), screen());
    }

    /** The bug this stream exists for: a message written to the terminal directly is appended to the bar's line. */
    @Test
    void aMessageAroundTheStreamLandsOnTheBarLine() {
        PrintStream terminal = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        out.status("train 50% | loss 0.2500");
        terminal.printf("forkprop: checkpoint written%n");
        assertEquals(List.of("train 50% | loss 0.2500forkprop: checkpoint written", ""), screen());
    }

    /** The bar updates while a message is half written: it is drawn after the message's line ends, not inside it. */
    @Test
    void aStatusUpdateWaitsForAnUnfinishedLine() {
        out.status("bar 1");
        out.print("forkprop: saving ");
        out.status("bar 2");
        out.print("checkpoint");
        out.println();
        assertEquals(List.of("forkprop: saving checkpoint", "bar 2"), screen());
        out.print("half a line");
        out.finishStatus();
        assertEquals(List.of("forkprop: saving checkpoint", "half a line", "bar 2", ""), screen());
    }

    @Test
    void withoutAStatusLineEverythingPassesThroughUnchanged() {
        out.print("a");
        out.printf("b %d%n", 1);
        out.println("c");
        out.finishStatus();
        out.clearStatus();
        assertEquals("ab 1\nc\n", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void clearStatusErasesTheBar() {
        out.status("bar");
        out.clearStatus();
        out.println("after");
        assertEquals(List.of("after", ""), screen());
    }

    /** Messages from several threads while the bar redraws: every message line intact, the bar last. */
    @Test
    void concurrentMessagesAndRedrawsKeepLinesWhole() throws Exception {
        int threads = 3, each = 200;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < each; i++) out.printf(Locale.ROOT, "thread %d message %d%n", id, i);
            }));
        }
        Thread bar = Thread.ofPlatform().start(() -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            for (int i = 0; i < 2000; i++) out.status("bar " + i);
        });
        go.countDown();
        for (Thread t : ts) t.join(TimeUnit.SECONDS.toMillis(30));
        bar.join(TimeUnit.SECONDS.toMillis(30));
        List<String> s = screen();
        assertEquals("bar 1999", s.get(s.size() - 1));
        List<String> messages = s.subList(0, s.size() - 1);
        assertEquals(threads * each, messages.size(), String.join("\n", messages));
        for (String m : messages) assertTrue(m.matches("thread \\d message \\d+"), "a whole line: '" + m + "'");
    }

    /**
     * The real bar: a message printed through {@link TerminalProgress#messages()} while the bar is
     * drawn (the checkpoint line that used to land on the bar's line) gets its own line.
     */
    @Test
    void terminalProgressDrawsItsBarAsTheStatusLine() throws Exception {
        TerminalProgress p = new TerminalProgress(out, 100, 2, System.nanoTime());
        assertTrue(p.messages() == out, "the stream passed in is the one the bar is drawn on");
        StepEvent e = new StepEvent();
        e.finite = true;
        e.samples = 32;
        e.loss = 0.25;
        for (int step = 1; step <= 40; step++) p.onEvent(e.step(step, 1, 100, 1e-3, 1_000_000, true, System.nanoTime()), true);
        Thread.sleep(3 * TerminalProgress.REDRAW_MILLIS); // the bar's thread draws it
        p.messages().printf("forkprop: checkpoint %s (step %d)%n", "ckpt-000040.safetensors", 40);
        e.kind = StepEvent.EPOCH_END;
        e.epoch = 1;
        e.correct = 16;
        p.onEvent(e, true);
        p.onClose();
        List<String> s = screen();
        assertTrue(s.contains("forkprop: checkpoint ckpt-000040.safetensors (step 40)"), String.join("\n", s));
        assertTrue(s.stream().anyMatch(l -> l.startsWith("epoch 1/2 done: train loss 0.2500 acc 0.5000")), String.join("\n", s));
        for (String l : s) {
            assertTrue(!l.contains("forkprop:") || l.startsWith("forkprop:"), "a message shares a line with the bar: " + l);
        }
        String bar = s.get(s.size() - 2); // the final bar stays as the last line
        assertTrue(bar.startsWith("train") && bar.contains("40/100"), String.join("\n", s));
        assertEquals("", s.get(s.size() - 1));
    }
}
