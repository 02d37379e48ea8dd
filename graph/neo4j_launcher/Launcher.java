import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * Runs an embedded Neo4j Community DBMS with a Bolt connector, for tests and benchmarks.
 *
 * <p>Usage: {@code java -cp CLASSPATH Launcher.java DATA_DIR PORT [EXTRA_CONF]}
 *
 * <p>Prints {@code READY bolt://127.0.0.1:PORT} once the default database is available, then
 * runs until stdin reaches end of file or the JVM is told to stop (SIGTERM). Reading stdin is
 * what ties the server's life to its parent: when the parent dies, the pipe closes.
 *
 * <p>EXTRA_CONF is an optional neo4j.conf-style file whose entries override the defaults below.
 */
public final class Launcher {
    private static final String HOST = "127.0.0.1";

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: Launcher DATA_DIR PORT [EXTRA_CONF]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        Files.createDirectories(home);

        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(HOST, port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                // The JVM heap is capped by the caller (-Xmx); the page cache lives off-heap.
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(256))
                // Throwaway test databases: don't reserve 256 MB of transaction log up front.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(5))
                // Netty's default graceful shutdown idles for seconds; a test server has no
                // clients worth waiting for by then.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(2));
        if (args.length == 3) {
            builder.loadPropertiesFromFile(Path.of(args[2]));
        }

        DatabaseManagementService service = builder.build();
        AtomicBoolean stopped = new AtomicBoolean();
        Runnable stop = () -> {
            if (stopped.compareAndSet(false, true)) {
                service.shutdown();
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "neo4j-launcher-shutdown"));

        GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        while (!db.isAvailable(1_000)) {
            // The caller enforces the overall start-up timeout.
        }
        System.out.println("READY bolt://" + HOST + ":" + port);
        System.out.flush();

        drain(System.in);
        // System.exit runs the shutdown hook; returning from main alone would leave Neo4j's
        // non-daemon threads keeping the JVM alive.
        System.exit(0);
    }

    private static void drain(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // Input is ignored; only end of file matters.
            }
        } catch (IOException e) {
            // A broken stdin means the parent is gone: shut down as for end of file.
        }
    }
}
