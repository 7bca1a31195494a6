// One OpenSearch node in this JVM, for scripts/opensearch-local.
//
// The node is org.opensearch.node.Node from the Maven Central jars; the modules a
// distribution unpacks into modules/ are given as classpath plugins instead, because
// their jars carry no plugin descriptors. Usage: java ... OpenSearchLocalNode NODE_HOME
// where NODE_HOME/config holds opensearch.yml and log4j2.properties. Once the node has
// bound its ports it writes NODE_HOME/ports ("http=N" and "transport=N" lines) so that
// the script can give every node of the cluster the others' transport ports.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.TransportService;

public final class OpenSearchLocalNode {
    // The modules a 2.x distribution would load that searchsvc needs: HTTP and transport,
    // the analysis-common filters (asciifolding, mapping, pattern, synonym_graph), painless,
    // the extra field types, and reindex (delete_by_query, _reindex).
    private static final String[] PLUGINS = {
        "org.opensearch.transport.Netty4Plugin",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        "org.opensearch.painless.PainlessPlugin",
        "org.opensearch.index.mapper.MapperExtrasPlugin",
        "org.opensearch.index.reindex.ReindexPlugin",
    };

    private OpenSearchLocalNode() {}

    /** A Node whose plugins come from the classpath. */
    static final class ClasspathNode extends Node {
        ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: OpenSearchLocalNode NODE_HOME");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Settings settings = Settings.builder().put("path.home", home.toString()).build();
        Environment environment =
                InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), home.resolve("config"), () -> null);
        LogConfigurator.registerErrorListener();
        LogConfigurator.configure(environment);

        Node node = new ClasspathNode(environment, pluginClasses());
        CountDownLatch closed = new CountDownLatch(1);
        // SIGTERM runs the hooks: close the node so that its data directory is left clean.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
            }
        }, "opensearch-local-shutdown"));
        node.start();
        writePorts(home, node);
        // Node threads are daemons once started; keep the JVM alive until it is told to stop.
        closed.await();
    }

    @SuppressWarnings("unchecked")
    private static List<Class<? extends Plugin>> pluginClasses() throws ClassNotFoundException {
        List<Class<? extends Plugin>> classes = new ArrayList<>();
        for (String name : PLUGINS) {
            classes.add((Class<? extends Plugin>) Class.forName(name));
        }
        return classes;
    }

    private static void writePorts(Path home, Node node) throws Exception {
        int http = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress().getPort();
        int transport = node.injector().getInstance(TransportService.class).boundAddress().publishAddress().getPort();
        String text = "http=" + http + "\ntransport=" + transport + "\n";
        // Written whole then renamed, so a reader never sees half of it.
        Path tmp = home.resolve("ports.tmp");
        Files.write(tmp, text.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, home.resolve("ports"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
