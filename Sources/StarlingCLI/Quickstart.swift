/// The quickstart demo, the same text as `examples/quickstart.yaml` (a test keeps them equal), built in so that
/// `starling up` finds it wherever it runs from.
enum Quickstart {
    static let manifest = """
        # The demo `starling up` serves when run with no manifests and no ModelService exists yet: two replicas of a
        # simulated Llama-3.1-8B on H100s (the calibrated simulator, no GPU needed) behind the gateway.
        apiVersion: starling.dev/v1alpha1
        kind: ModelService
        metadata:
          name: quickstart
        spec:
          model: meta-llama/Llama-3.1-8B-Instruct
          replicas: 2
          accelerators:
            type: H100-80GB
            count: 1
          server:
            engine: sim
            profile: llama-3.1-8b-h100
            # A real Llama-3.1-8B server loads for about 82 s (the profile's default); the demo loads in 3.
            args: ["--startup-seconds", "3"]
        """
}
