using System.Security.Cryptography.X509Certificates;

namespace BgeVectorDb.Server.Hosting;

/// <summary>Section "Server:Tls". When CertificatePath is set, the server listens with TLS
/// (use an https:// Server:Listen address).</summary>
public sealed class TlsOptions
{
    /// <summary>PEM certificate (with KeyPath) or PFX/PKCS#12 file. Default none (plaintext h2c).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key for a PEM certificate. Default none.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of a PFX file or of an encrypted PEM key. Default none.</summary>
    public string? Password { get; set; }

    internal X509Certificate2 Load()
    {
        var path = CertificatePath!;
        if (!File.Exists(path)) throw new FileNotFoundException($"Server:Tls:CertificatePath: '{path}' does not exist", path);
        if (KeyPath is not null)
        {
            if (!File.Exists(KeyPath)) throw new FileNotFoundException($"Server:Tls:KeyPath: '{KeyPath}' does not exist", KeyPath);
            return Password is null ? X509Certificate2.CreateFromPemFile(path, KeyPath) : X509Certificate2.CreateFromEncryptedPemFile(path, Password, KeyPath);
        }
        return X509CertificateLoader.LoadPkcs12FromFile(path, Password);
    }
}
