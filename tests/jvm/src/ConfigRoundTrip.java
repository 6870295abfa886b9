import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dropwizard.configuration.EnvironmentVariableSubstitutor;
import io.dropwizard.configuration.FileConfigurationSourceProvider;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import java.io.InputStream;

/**
 * Loads a configuration template the way OpenMetadata's server does: Dropwizard substitutes
 * ${VAR:-default} with this process's environment, then the YAML is parsed. Prints the parsed
 * document as JSON (ASCII-escaped), so the caller compares what the server would see.
 */
public final class ConfigRoundTrip {
  public static void main(String[] args) throws Exception {
    SubstitutingSourceProvider provider = new SubstitutingSourceProvider(
        new FileConfigurationSourceProvider(), new EnvironmentVariableSubstitutor(false));
    JsonNode tree;
    try (InputStream in = provider.open(args[0])) {
      tree = new ObjectMapper(new YAMLFactory()).readTree(in);
    }
    ObjectMapper json = new ObjectMapper();
    json.getFactory().configure(
        com.fasterxml.jackson.core.json.JsonWriteFeature.ESCAPE_NON_ASCII.mappedFeature(), true);
    System.out.println(json.writeValueAsString(tree));
  }
}
