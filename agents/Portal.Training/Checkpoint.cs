using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Portal.Training;

/// <summary>
/// One file holding everything a run needs to continue exactly: recipe, step, seed, config, the model's
/// parameters and buffers, and the optimizer's state.
/// </summary>
public static class Checkpoint
{
    private const string Magic = "PORTAL-CKPT";
    private const int FormatVersion = 1;

    public sealed record Header(string Recipe, long Step, int Seed, string ConfigJson);

    internal static void Save(string path, Header header, nn.Module model, OptimizerHelper optimizer)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        using (var stream = File.Create(temp))
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(header.Recipe);
            writer.Write(header.Step);
            writer.Write(header.Seed);
            writer.Write(header.ConfigJson);
            model.save(writer);
            optimizer.save_state_dict(writer);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        // Rename last, so a crash mid-write never leaves a truncated checkpoint under the real name.
        File.Move(temp, path, overwrite: true);
    }

    public static Header ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        return ReadHeader(reader, path);
    }

    internal static Header Load(string path, nn.Module model, OptimizerHelper optimizer)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        var header = ReadHeader(reader, path);
        model.load(reader);
        optimizer.load_state_dict(reader);
        return header;
    }

    private static Header ReadHeader(BinaryReader reader, string path)
    {
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException($"{path} is not a portal checkpoint.");
            var version = reader.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"{path} has checkpoint format {version}; this agent reads {FormatVersion}.");
            return new Header(reader.ReadString(), reader.ReadInt64(), reader.ReadInt32(), reader.ReadString());
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path} is truncated.");
        }
    }
}
